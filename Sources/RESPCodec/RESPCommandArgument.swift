/// A value that can be written as one bulk string argument of a command without an intermediate copy.
///
/// `String`, `Substring`, `[UInt8]`, `ArraySlice<UInt8>`, `UnsafeRawBufferPointer` and the fixed-width
/// integers conform; integers are written as their decimal text, as Redis expects (`EXPIRE key 10`).
public protocol RESPCommandArgument {
    /// The number of payload bytes ``appendRESPPayload(to:)`` will write.
    var respPayloadCount: Int { get }
    /// Appends the payload bytes, without the `$n\r\n` header or trailing CRLF.
    func appendRESPPayload(to buffer: inout [UInt8])
    /// Copies the payload bytes into `destination`, whose count is ``respPayloadCount``.
    ///
    /// The default goes through ``appendRESPPayload(to:)`` and a temporary array; the standard
    /// conformances copy directly. An argument that writes other than ``respPayloadCount`` bytes
    /// stops the program (a command of the wrong length would desynchronise the connection).
    func copyRESPPayload(to destination: UnsafeMutableRawBufferPointer)
}

extension RESPCommandArgument {
    /// Copies the payload through ``appendRESPPayload(to:)`` and a temporary array.
    @inlinable
    public func copyRESPPayload(to destination: UnsafeMutableRawBufferPointer) {
        var bytes: [UInt8] = []
        appendRESPPayload(to: &bytes)
        precondition(bytes.count == destination.count, "a RESPCommandArgument wrote other than its respPayloadCount")
        // SAFETY: both sides hold `destination.count` bytes (checked above).
        bytes.withUnsafeBytes { destination.copyMemory(from: $0) }
    }
}

extension String: RESPCommandArgument {
    /// The UTF-8 length.
    @inlinable public var respPayloadCount: Int { utf8.count }
    /// Appends the UTF-8 bytes (copied from the string's contiguous storage in one go).
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) {
        var text = self
        text.withUTF8 { buffer.append(contentsOf: $0) }
    }
    /// Copies the UTF-8 bytes.
    @inlinable public func copyRESPPayload(to destination: UnsafeMutableRawBufferPointer) {
        var text = self
        // SAFETY: `destination` holds `utf8.count` bytes (the encoder measured them).
        text.withUTF8 { destination.copyMemory(from: UnsafeRawBufferPointer($0)) }
    }
}

extension Substring: RESPCommandArgument {
    /// The UTF-8 length.
    @inlinable public var respPayloadCount: Int { utf8.count }
    /// Appends the UTF-8 bytes.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Array: RESPCommandArgument where Element == UInt8 {
    /// The byte count.
    @inlinable public var respPayloadCount: Int { count }
    /// Appends the bytes.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
    /// Copies the bytes.
    @inlinable public func copyRESPPayload(to destination: UnsafeMutableRawBufferPointer) {
        // SAFETY: `destination` holds `count` bytes (the encoder measured them).
        withUnsafeBytes { destination.copyMemory(from: $0) }
    }
}

extension ArraySlice: RESPCommandArgument where Element == UInt8 {
    /// The byte count.
    @inlinable public var respPayloadCount: Int { count }
    /// Appends the bytes.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
    /// Copies the bytes.
    @inlinable public func copyRESPPayload(to destination: UnsafeMutableRawBufferPointer) {
        // SAFETY: `destination` holds `count` bytes (the encoder measured them).
        withUnsafeBytes { destination.copyMemory(from: $0) }
    }
}

// SAFETY: the caller keeps the pointed-to bytes alive and unmutated for the `encodeCommand` call;
// they are copied into the output buffer and no pointer is kept.
extension UnsafeRawBufferPointer: RESPCommandArgument {
    /// The byte count.
    @inlinable public var respPayloadCount: Int { count }
    /// Appends the bytes.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
    /// Copies the bytes.
    @inlinable public func copyRESPPayload(to destination: UnsafeMutableRawBufferPointer) {
        // SAFETY: `destination` holds `count` bytes (the encoder measured them).
        destination.copyMemory(from: self)
    }
}

extension Int: RESPCommandArgument {
    /// The length of the decimal text.
    @inlinable public var respPayloadCount: Int { RESPEncoder.decimalCount(Int64(self)) }
    /// Appends the decimal text.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) {
        RESPEncoder.appendDecimal(Int64(self), to: &buffer)
    }
    /// Writes the decimal text.
    @inlinable public func copyRESPPayload(to destination: UnsafeMutableRawBufferPointer) {
        // SAFETY: `destination` holds `decimalCount` bytes (the encoder measured them).
        let target = destination.baseAddress!.assumingMemoryBound(to: UInt8.self)
        RESPEncoder.writeDecimal(Int64(self), digits: destination.count, to: target)
    }
}

extension Int64: RESPCommandArgument {
    /// The length of the decimal text.
    @inlinable public var respPayloadCount: Int { RESPEncoder.decimalCount(self) }
    /// Appends the decimal text.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) { RESPEncoder.appendDecimal(self, to: &buffer) }
    /// Writes the decimal text.
    @inlinable public func copyRESPPayload(to destination: UnsafeMutableRawBufferPointer) {
        // SAFETY: `destination` holds `decimalCount` bytes (the encoder measured them).
        let target = destination.baseAddress!.assumingMemoryBound(to: UInt8.self)
        RESPEncoder.writeDecimal(self, digits: destination.count, to: target)
    }
}

extension Double: RESPCommandArgument {
    /// The length of the text Redis reads back (`1.5`, `inf`, `-inf`).
    public var respPayloadCount: Int { RESPEncoder.doubleText(self).utf8.count }
    /// Appends the text: Swift's shortest round-tripping decimal, or `inf`/`-inf`/`nan`.
    public func appendRESPPayload(to buffer: inout [UInt8]) {
        buffer.append(contentsOf: RESPEncoder.doubleText(self).utf8)
    }
}
