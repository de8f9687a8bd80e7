import Glibc
import Synchronization

/// The `Date` field value (RFC 9110 §5.6.7, IMF-fixdate), formatted at most once a second for the
/// whole process.
///
/// Every response carries a `Date`; formatting one costs more than the rest of a small response
/// head. Connections keep the last value they got with its second (`DateCache.Local`) and come
/// here only when the clock's second changed, so the lock is taken about once a second per busy
/// connection.
enum DateCache {
    private static let shared = Mutex<(second: Int, value: [UInt8])>((-1, []))

    /// A connection's copy of the cached value.
    struct Local {
        private var second = -1
        private(set) var value: [UInt8] = []

        /// The value for the current second.
        mutating func current() -> [UInt8] {
            let now = time(nil)
            if now != second {
                second = now
                value = DateCache.value(for: now)
            }
            return value
        }
    }

    /// The formatted value for `second` (seconds since the epoch).
    static func value(for second: Int) -> [UInt8] {
        shared.withLock { cached in
            if cached.second != second {
                cached = (second, format(second))
            }
            return cached.value
        }
    }

    /// Formats `second` as `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func format(_ second: Int) -> [UInt8] {
        var seconds = time_t(second)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var out: [UInt8] = []
        out.reserveCapacity(29)
        func two(_ value: Int32) {
            out.append(UInt8(value / 10) + 0x30)
            out.append(UInt8(value % 10) + 0x30)
        }
        out.append(contentsOf: days[Int(parts.tm_wday)].utf8)
        out.append(contentsOf: ", ".utf8)
        two(parts.tm_mday)
        out.append(0x20)
        out.append(contentsOf: months[Int(parts.tm_mon)].utf8)
        out.append(0x20)
        let year = Int(parts.tm_year) + 1900
        out.append(contentsOf: String(year).utf8)
        out.append(0x20)
        two(parts.tm_hour)
        out.append(0x3A)
        two(parts.tm_min)
        out.append(0x3A)
        two(parts.tm_sec)
        out.append(contentsOf: " GMT".utf8)
        return out
    }
}
