/// Connections per address: a token bucket each (a burst, then a steady rate), so that one
/// address opening connections in a loop is refused while the others are not.
///
/// Pure: time is passed in (seconds on any monotonic clock). Memory is bounded: past
/// `maxAddresses` entries, those whose bucket has refilled are forgotten (they would be allowed
/// anyway), and if none has, the oldest half.
public struct RateLimiter {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    public let burst: Double
    public let perSecond: Double
    public let maxAddresses: Int
    private var buckets: [String: Bucket] = [:]

    public init(burst: Double, perSecond: Double, maxAddresses: Int = 10_000) {
        self.burst = burst
        self.perSecond = perSecond
        self.maxAddresses = maxAddresses
    }

    /// Takes a token for `address` at time `now`; false when it has none left.
    public mutating func allow(_ address: String, now: Double) -> Bool {
        var bucket = buckets[address] ?? Bucket(tokens: burst, updated: now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * perSecond)
        bucket.updated = now
        let allowed = bucket.tokens >= 1
        if allowed { bucket.tokens -= 1 }
        if buckets[address] == nil, buckets.count >= maxAddresses { prune(now: now) }
        buckets[address] = bucket
        return allowed
    }

    /// How many addresses are remembered.
    public var count: Int { buckets.count }

    private mutating func prune(now: Double) {
        buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * perSecond < burst }
        if buckets.count >= maxAddresses {
            let oldest = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(buckets.count / 2)
            for (address, _) in oldest { buckets[address] = nil }
        }
    }
}
