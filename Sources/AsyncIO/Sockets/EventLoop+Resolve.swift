import CAsyncIOShims
import Glibc

/// One result of `getAddrInfo`: asyncio's `(family, type, proto, canonname, sockaddr)` tuple.
public struct AddressInfo: Sendable, Hashable {
    /// `AF_INET` or `AF_INET6`.
    public var family: Int32
    /// `SOCK_STREAM` or `SOCK_DGRAM`.
    public var type: Int32
    /// The protocol number (`IPPROTO_TCP`, `IPPROTO_UDP`), or 0.
    public var `protocol`: Int32
    /// The canonical name with `AI_CANONNAME`, else empty.
    public var canonicalName: String
    /// The address, with the port filled in.
    public var address: SocketAddress
}

/// A failed name resolution: `getaddrinfo`'s EAI_* code and its message (Python's `socket.gaierror`).
public struct AddressResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The EAI_* code (negative on Linux), e.g. `EAI_NONAME`.
    public var code: Int32
    /// The host that was being resolved.
    public var host: String?

    public var description: String {
        "getaddrinfo(\(host ?? "nil")): \(String(cString: gai_strerror(code))) (\(code))"
    }
}

extension EventLoop {
    /// Resolves `host` and `port` on the default thread pool (getaddrinfo blocks).
    ///
    /// Numeric hosts (`"127.0.0.1"`, `"::1"`) and a nil host with `AI_PASSIVE` are answered here
    /// without a thread, as asyncio's `_ipaddr_info` fast path does.
    /// - Throws: `AddressResolutionError` (e.g. EAI_NONAME). Mirrors `loop.getaddrinfo()`.
    public func getAddrInfo(
        _ host: String?,
        port: Int?,
        family: Int32 = AF_UNSPEC,
        type: Int32 = 0,
        protocol proto: Int32 = 0,
        flags: Int32 = 0
    ) async throws -> [AddressInfo] {
        if let host, let numeric = Self.numericAddress(host, port: port ?? 0, family: family) {
            let types = type == 0 ? [Int32(SOCK_STREAM.rawValue), Int32(SOCK_DGRAM.rawValue)] : [type]
            return types.map {
                AddressInfo(family: numeric.family, type: $0, protocol: proto, canonicalName: "", address: numeric)
            }
        }
        return try await offloadToPool { () throws -> [AddressInfo] in
            try Self.blockingGetAddrInfo(host, port: port, family: family, type: type, protocol: proto, flags: flags)
        }
    }

    /// Turns an address into a host name and service on the default thread pool.
    ///
    /// - Throws: `AddressResolutionError`. Mirrors `loop.getnameinfo(sockaddr, flags)`.
    public func getNameInfo(_ address: SocketAddress, flags: Int32 = 0) async throws -> (host: String, service: String)
    {
        try await offloadToPool { () throws -> (host: String, service: String) in
            var hostBuffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            var serviceBuffer = [CChar](repeating: 0, count: Int(NI_MAXSERV))
            let code = try address.withSockAddr { (pointer, length) throws(SystemError) in
                getnameinfo(
                    pointer,
                    length,
                    &hostBuffer,
                    socklen_t(hostBuffer.count),
                    &serviceBuffer,
                    socklen_t(serviceBuffer.count),
                    flags
                )
            }
            guard code == 0 else { throw AddressResolutionError(code: code, host: address.host) }
            return (Self.string(hostBuffer), Self.string(serviceBuffer))
        }
    }

    private static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The address `host` denotes if it is a numeric IPv4 or IPv6 literal (of an allowed family).
    static func numericAddress(_ host: String, port: Int, family: Int32) -> SocketAddress? {
        var scratch = in6_addr()
        if family != AF_INET6, inet_pton(AF_INET, host, &scratch) == 1 {
            return .ipv4(host: host, port: port)
        }
        if family != AF_INET, !host.contains("%"), inet_pton(AF_INET6, host, &scratch) == 1 {
            // Normalise ("0:0::1" → "::1") through a round trip.
            let address = SocketAddress.ipv6(host: host, port: port)
            var storage = sockaddr_storage()
            guard let length = try? address.write(into: &storage) else { return nil }
            return withUnsafeBytes(of: &storage) { SocketAddress(storage: $0.baseAddress!, length: length) }
        }
        return nil
    }

    static func blockingGetAddrInfo(
        _ host: String?,
        port: Int?,
        family: Int32,
        type: Int32,
        protocol proto: Int32,
        flags: Int32
    ) throws(AddressResolutionError) -> [AddressInfo] {
        var hints = addrinfo()
        hints.ai_family = family
        hints.ai_socktype = type
        hints.ai_protocol = proto
        hints.ai_flags = flags
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, port.map(String.init), &hints, &list)
        guard code == 0 else { throw AddressResolutionError(code: code, host: host) }
        defer { freeaddrinfo(list) }
        var results: [AddressInfo] = []
        var cursor = list
        while let entry = cursor?.pointee {
            // SAFETY: getaddrinfo filled `ai_addr` with `ai_addrlen` valid bytes; read before freeaddrinfo.
            if let raw = entry.ai_addr, let address = SocketAddress(storage: raw, length: entry.ai_addrlen) {
                results.append(
                    AddressInfo(
                        family: entry.ai_family,
                        type: entry.ai_socktype,
                        protocol: entry.ai_protocol,
                        canonicalName: entry.ai_canonname.map { String(cString: $0) } ?? "",
                        address: address
                    )
                )
            }
            cursor = entry.ai_next
        }
        return results
    }

    /// Runs blocking `work` on the default thread pool (made on first use) and awaits its result.
    ///
    /// The transports' own helper for `getaddrinfo`; `runInExecutor` is the public form.
    func offloadToPool<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        let pool: ThreadPoolExecutor
        if let existing = core.defaultExecutor {
            pool = existing
        } else {
            pool = ThreadPoolExecutor()
            core.defaultExecutor = pool
        }
        let future = Future<Value>(core: core)
        let resolver = future.resolver
        try pool.submit {
            do {
                resolver.resolve(.success(try work()))
            } catch {
                resolver.resolve(.failure(error))
            }
        }
        return try await future.value
    }
}
