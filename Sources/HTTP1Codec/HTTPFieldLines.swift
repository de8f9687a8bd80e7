import HTTPTypes

/// One field line as it arrived: name and value as slices of the parsed bytes.
public struct HTTPFieldLine: Hashable, Sendable {
    /// The field name, with its original case.
    public var name: ArraySlice<UInt8>
    /// The field value, without leading and trailing whitespace.
    public var value: ArraySlice<UInt8>
}

/// The field lines of a head or trailer section, read lazily from the bytes they arrived in.
///
/// The parser validated every line and counted them, but stored no per-field offsets: iterating
/// re-finds each colon and CRLF, which is cheap on validated bytes and costs nothing for fields the
/// caller never looks at. No field is copied until the caller asks for `String`s or `HTTPFields`.
public struct HTTPFieldLines: Sequence, Sendable {
    /// The array that holds the section.
    @usableFromInline let storage: [UInt8]
    /// Index of the first field line in ``storage``.
    @usableFromInline let start: Int
    /// The number of field lines.
    public let count: Int

    @inlinable
    init(storage: [UInt8], start: Int, count: Int) {
        self.storage = storage
        self.start = start
        self.count = count
    }

    /// Iterates over the field lines in order.
    public struct Iterator: IteratorProtocol {
        let bytes: [UInt8]
        var position: Int
        var remaining: Int

        /// Returns the next field line, or nil after the last one.
        public mutating func next() -> HTTPFieldLine? {
            guard remaining > 0 else { return nil }
            remaining -= 1
            // The line is valid: name ":" OWS value OWS CRLF, with no CR before its CRLF.
            let nameStart = position
            var i = nameStart
            while bytes[i] != ASCII.colon { i += 1 }
            let nameEnd = i
            i += 1
            while bytes[i] == ASCII.space || bytes[i] == ASCII.tab { i += 1 }
            let valueStart = i
            while bytes[i] != ASCII.cr { i += 1 }
            var valueEnd = i
            while valueEnd > valueStart && (bytes[valueEnd - 1] == ASCII.space || bytes[valueEnd - 1] == ASCII.tab) {
                valueEnd -= 1
            }
            position = i + 2
            return HTTPFieldLine(name: bytes[nameStart..<nameEnd], value: bytes[valueStart..<valueEnd])
        }
    }

    /// Returns an iterator over the field lines.
    public func makeIterator() -> Iterator {
        Iterator(bytes: storage, position: start, remaining: count)
    }

    /// The value of the first field with this name (ASCII case-insensitive), as bytes.
    public func first(named name: String) -> ArraySlice<UInt8>? {
        let wanted = Array(name.utf8)
        for line in self where line.name.count == wanted.count {
            if zip(line.name, wanted).allSatisfy({ asciiLowercase($0) == asciiLowercase($1) }) { return line.value }
        }
        return nil
    }

    /// Converts the lines to swift-http-types' `HTTPFields`.
    ///
    /// Names and values were validated by the parser, so no line is dropped or altered, except
    /// Host when `excludingHost` is true (a request carries it as `HTTPRequest.authority`).
    public func makeHTTPFields(excludingHost: Bool = false) -> HTTPFields {
        var fields = HTTPFields()
        fields.reserveCapacity(count)
        for line in self {
            if excludingHost && line.name.count == 4 && line.name.elementsEqual("host".utf8, by: { $0 | 0x20 == $1 }) {
                continue
            }
            fields.append(makeField(fieldName(line.name), line.value))
        }
        return fields
    }
}

/// Names common enough to skip `HTTPField.Name`'s validation and lowercasing, as the wire spells
/// them; a name in any other spelling takes the general path and keeps its spelling.
private let commonFieldNames: [(bytes: [UInt8], name: HTTPField.Name)] = [
    HTTPField.Name.userAgent, .accept, .acceptLanguage, .acceptEncoding, .connection, .referer,
    .cookie, .cacheControl, .contentType, .contentLength, .transferEncoding, .ifNoneMatch,
    .ifModifiedSince, .origin, .authorization, .upgrade,
    HTTPField.Name("Sec-Fetch-Dest")!, HTTPField.Name("Sec-Fetch-Mode")!, HTTPField.Name("Sec-Fetch-Site")!,
    HTTPField.Name("Sec-Fetch-User")!, HTTPField.Name("Upgrade-Insecure-Requests")!,
].map { (Array($0.rawName.utf8), $0) }

/// The swift-http-types name for validated token bytes.
private func fieldName(_ bytes: ArraySlice<UInt8>) -> HTTPField.Name {
    for entry in commonFieldNames where entry.bytes.count == bytes.count && entry.bytes.elementsEqual(bytes) {
        return entry.name
    }
    // The parser only accepts token names, which are exactly the names HTTPField.Name accepts.
    return HTTPField.Name(String(decoding: bytes, as: UTF8.self))!
}

/// A field from validated value bytes: through a `String` when they are ASCII (the cheap path),
/// from the bytes themselves otherwise (obs-text must survive unchanged).
private func makeField(_ name: HTTPField.Name, _ value: ArraySlice<UInt8>) -> HTTPField {
    if value.allSatisfy({ $0 < 0x80 }) {
        return HTTPField(name: name, value: String(decoding: value, as: UTF8.self))
    }
    return HTTPField(name: name, value: value)
}

@inline(__always)
func asciiLowercase(_ b: UInt8) -> UInt8 {
    b >= 0x41 && b <= 0x5A ? b | 0x20 : b
}
