import HTTPTypes

/// Reads a `multipart/form-data` (or any `multipart/*`) body part by part, each part's content
/// streamed as it arrives: aiohttp's `MultipartReader` (`await request.multipart()`).
///
/// ```swift
/// let reader = try request.multipart()
/// while let part = try await reader.next() {
///     if part.filename != nil {
///         for try await chunk in part { try file.write(chunk) }   // never the whole file in memory
///     } else {
///         let value = try await part.text()
///     }
/// }
/// ```
/// The reader holds at most one body chunk and a delimiter's length of bytes. A part not read to
/// its end is skipped by ``next()``. A malformed body (no closing delimiter, a part head over
/// ``maxHeadSize`` or without its blank line) throws ``HTTPError/badRequest(text:headers:)``.
///
/// Mirrors `aiohttp.MultipartReader` and `BodyPartReader` (`next()`, `read_chunk()`, `read()`,
/// `text()`, `name`, `filename`, `headers`). Deviation: nested multipart parts are not opened
/// (read them with a reader of their own over their bytes if you need to).
public final class MultipartReader {
    /// The most bytes of one part's head (its fields).
    public var maxHeadSize = 16 * 1024

    private let body: RequestBody
    /// `CRLF--boundary`.
    private let delimiter: [UInt8]
    /// Unread bytes from `start`. It begins with a CRLF so that the first delimiter looks like the
    /// others (the body may begin with `--boundary` at once).
    private var buffer: [UInt8] = [13, 10]
    private var start = 0
    private var bodyEnded = false
    private var phase = Phase.preamble
    private var current: BodyPart?

    private enum Phase {
        /// Before the first delimiter.
        case preamble
        /// Right after a delimiter: the rest of its line, or `--` for the last one.
        case afterDelimiter
        /// In a part's content.
        case content
        /// After the closing delimiter.
        case done
    }

    /// A reader of `body` whose parts are separated by `boundary`.
    public init(body: RequestBody, boundary: String) {
        self.body = body
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    /// The next part, its head read and its content not yet; nil after the last one.
    ///
    /// - Throws: ``HTTPError`` (400) for a malformed body; the body's own errors. Mirrors `next()`.
    public func next() async throws -> BodyPart? {
        if let current {
            while try await current.readChunk() != nil {}
        }
        current = nil
        if phase == .preamble {
            while true {
                if let index = find(delimiter) {
                    start = index + delimiter.count
                    phase = .afterDelimiter
                    break
                }
                // Keep what could be the start of a delimiter.
                start = max(start, buffer.count - (delimiter.count - 1))
                try await fill(orFail: "no multipart delimiter")
            }
        }
        guard phase == .afterDelimiter else { return nil }
        // `--` closes the body; otherwise optional padding, then CRLF, then the part's head.
        while buffer.count - start < 2 { try await fill(orFail: "the body ends after a delimiter") }
        if buffer[start] == UInt8(ascii: "-"), buffer[start + 1] == UInt8(ascii: "-") {
            phase = .done
            return nil
        }
        let head = try await readHead()
        let part = BodyPart(reader: self, headers: head)
        current = part
        phase = .content
        return part
    }

    /// Reads the rest of the delimiter line and the part's fields up to the blank line.
    private func readHead() async throws -> HTTPFields {
        while true {
            if let lineEnd = find([13, 10]) {
                guard buffer[start..<lineEnd].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else {
                    throw HTTPError.badRequest(text: "400: malformed multipart delimiter")
                }
                let fieldsStart = lineEnd + 2
                if buffer.count - fieldsStart >= 2, buffer[fieldsStart] == 13, buffer[fieldsStart + 1] == 10 {
                    start = fieldsStart + 2
                    return [:]
                }
                if let blank = find([13, 10, 13, 10], from: lineEnd) {
                    start = blank + 4
                    return try parseFields(buffer[fieldsStart..<blank])
                }
            }
            guard buffer.count - start <= maxHeadSize else {
                throw HTTPError.badRequest(text: "400: a multipart part head is too large")
            }
            try await fill(orFail: "the body ends in a part head")
        }
    }

    private func parseFields(_ bytes: ArraySlice<UInt8>) throws -> HTTPFields {
        var fields = HTTPFields()
        var lineStart = bytes.startIndex
        while lineStart < bytes.endIndex {
            var lineEnd = lineStart
            while lineEnd + 1 < bytes.endIndex, !(bytes[lineEnd] == 13 && bytes[lineEnd + 1] == 10) { lineEnd += 1 }
            if lineEnd + 1 >= bytes.endIndex { lineEnd = bytes.endIndex }
            let line = bytes[lineStart..<lineEnd]
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
                let name = HTTPField.Name(String(decoding: line[..<colon], as: UTF8.self))
            else {
                throw HTTPError.badRequest(text: "400: malformed multipart part field")
            }
            let value = String(Substring(decoding: line[(colon + 1)...], as: UTF8.self).trimmingASCIISpaces())
            fields.append(HTTPField(name: name, value: value))
            lineStart = lineEnd + 2
        }
        return fields
    }

    /// The next piece of the current part's content; nil at its end.
    func readContent(of part: BodyPart) async throws -> [UInt8]? {
        guard part === current, phase == .content else { return nil }
        while true {
            if let index = find(delimiter) {
                if index > start {
                    let chunk = Array(buffer[start..<index])
                    start = index
                    return chunk
                }
                start = index + delimiter.count
                phase = .afterDelimiter
                return nil
            }
            let safe = buffer.count - (delimiter.count - 1)
            if safe > start {
                let chunk = Array(buffer[start..<safe])
                start = safe
                return chunk
            }
            try await fill(orFail: "the body ends inside a part")
        }
    }

    /// Appends the body's next chunk (dropping what was consumed).
    private func fill(orFail reason: String) async throws {
        guard !bodyEnded, let chunk = try await body.readAny() else {
            bodyEnded = true
            throw HTTPError.badRequest(text: "400: malformed multipart body: \(reason)")
        }
        if start > 0 {
            buffer.removeSubrange(..<start)
            start = 0
        }
        buffer.append(contentsOf: chunk)
    }

    /// The index of the first `needle` in the unread bytes at or after `from`.
    private func find(_ needle: [UInt8], from: Int? = nil) -> Int? {
        var index = max(from ?? start, start)
        let last = buffer.count - needle.count
        guard let first = needle.first else { return nil }
        while index <= last {
            guard let candidate = buffer[index...last].firstIndex(of: first) else { return nil }
            if buffer[candidate..<(candidate + needle.count)].elementsEqual(needle) { return candidate }
            index = candidate + 1
        }
        return nil
    }
}

/// One part of a multipart body: its fields, and its content as a stream.
///
/// Iterate it (`for try await chunk in part`) or read it whole (``bytes(limit:)``, ``text(limit:)``).
/// Valid until the reader's next ``MultipartReader/next()``.
///
/// Mirrors aiohttp's `BodyPartReader`.
public final class BodyPart: AsyncSequence {
    public typealias Element = [UInt8]

    /// The part's fields (`Content-Disposition`, `Content-Type`, …).
    public let headers: HTTPFields
    /// The `name` of its `Content-Disposition` (a form field's name). Mirrors `name`.
    public let name: String?
    /// The `filename` of its `Content-Disposition` (`filename*` preferred). Mirrors `filename`.
    public let filename: String?
    private let reader: MultipartReader

    init(reader: MultipartReader, headers: HTTPFields) {
        self.reader = reader
        self.headers = headers
        let disposition = headers[.contentDisposition].map(HeaderParameters.init(parsing:))
        name = disposition?["name"]
        filename = disposition?.extendedValue("filename") ?? disposition?["filename"]
    }

    /// The part's `Content-Type` (`text/plain` if none, as RFC 7578 says).
    public var contentType: String { headers[.contentType] ?? "text/plain" }

    /// The next piece of the content; nil at its end. Mirrors `read_chunk()`.
    public func readChunk() async throws -> [UInt8]? {
        try await reader.readContent(of: self)
    }

    /// The whole content.
    ///
    /// - Throws: ``HTTPError/payloadTooLarge(text:)`` past `limit` bytes. Mirrors `read()`.
    public func bytes(limit: Int = 1 << 20) async throws -> [UInt8] {
        var result: [UInt8] = []
        while let chunk = try await readChunk() {
            guard result.count + chunk.count <= limit else { throw HTTPError.payloadTooLarge() }
            result += chunk
        }
        return result
    }

    /// The whole content as UTF-8 text. Mirrors `text()`.
    public func text(limit: Int = 1 << 20) async throws -> String {
        String(decoding: try await bytes(limit: limit), as: UTF8.self)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let part: BodyPart
        public mutating func next() async throws -> [UInt8]? { try await part.readChunk() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(part: self) }
}

/// A field value with `;`-separated parameters: `form-data; name="a"; filename="b.txt"`,
/// `multipart/form-data; boundary=xyz`. Names are lowercased; quoted values unquoted.
struct HeaderParameters {
    /// The value before the first `;`, lowercased and trimmed.
    var value: String
    var parameters: [String: String] = [:]

    init(parsing text: String) {
        let bytes = Array(text.utf8)
        var index = 0
        func skipSpaces() { while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 } }
        func token(until stops: Set<UInt8>) -> String {
            let begin = index
            while index < bytes.count, !stops.contains(bytes[index]) { index += 1 }
            return String(Substring(decoding: bytes[begin..<index], as: UTF8.self).trimmingASCIISpaces())
        }
        value = token(until: [UInt8(ascii: ";")]).lowercased()
        while index < bytes.count {
            index += 1  // the ';'
            skipSpaces()
            let name = token(until: [UInt8(ascii: "="), UInt8(ascii: ";")]).lowercased()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                if !name.isEmpty { parameters[name] = "" }
                continue
            }
            index += 1
            skipSpaces()
            var parsed: [UInt8] = []
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count { index += 1 }
                    parsed.append(bytes[index])
                    index += 1
                }
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: ";") { index += 1 }
            } else {
                parsed = Array(token(until: [UInt8(ascii: ";")]).utf8)
            }
            if !name.isEmpty, parameters[name] == nil { parameters[name] = String(decoding: parsed, as: UTF8.self) }
        }
    }

    subscript(name: String) -> String? { parameters[name] }

    /// An RFC 8187 extended value (`filename*=UTF-8''%E2%82%AC.txt`), decoded; nil if absent or not UTF-8.
    func extendedValue(_ name: String) -> String? {
        guard let raw = parameters[name + "*"] else { return nil }
        let pieces = raw.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3, pieces[0].lowercased() == "utf-8" else { return nil }
        return percentDecode(pieces[2].utf8)
    }
}
