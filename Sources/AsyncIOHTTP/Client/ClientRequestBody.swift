import Foundation

/// The body of a request: bytes, text, `Codable` JSON, a form, or a stream of chunks.
///
/// Each kind sets the Content-Type aiohttp sets for it unless the request's headers name one.
/// Bytes are sent with Content-Length; a stream with Content-Length when its `length` is known,
/// else chunked. A stream can be sent only once, so a request with one is never retried and a
/// 307/308 redirect of it is not followed (the redirect response is returned).
///
/// Mirrors aiohttp's `data=` (bytes, str, dict → form, `FormData`, async iterable) and `json=`
/// arguments, as one `body:` argument.
public struct ClientRequestBody {
    enum Storage {
        case bytes([UInt8])
        case stream(next: () async throws -> [UInt8]?, length: Int?)
    }

    var storage: Storage
    /// The Content-Type this body implies, if any.
    public var contentType: String?

    /// Whether the body can be sent again (for a retry or a 307/308 redirect).
    var isReplayable: Bool {
        if case .bytes = storage { return true }
        return false
    }

    /// Raw bytes, `application/octet-stream` unless said otherwise.
    public static func bytes(
        _ bytes: [UInt8],
        contentType: String? = "application/octet-stream"
    ) -> ClientRequestBody {
        ClientRequestBody(storage: .bytes(bytes), contentType: contentType)
    }

    /// Text as UTF-8, `text/plain; charset=utf-8` unless said otherwise.
    public static func text(_ text: String, contentType: String = "text/plain; charset=utf-8") -> ClientRequestBody {
        ClientRequestBody(storage: .bytes(Array(text.utf8)), contentType: contentType)
    }

    /// A value encoded as JSON, `application/json`. Mirrors aiohttp's `json=`.
    ///
    /// - Throws: what `encoder` throws.
    public static func json(_ value: some Encodable, encoder: JSONEncoder = JSONEncoder()) throws -> ClientRequestBody {
        ClientRequestBody(storage: .bytes(Array(try encoder.encode(value))), contentType: "application/json")
    }

    /// A form, `application/x-www-form-urlencoded` (names and values in order; a name may repeat).
    ///
    /// Mirrors aiohttp's `data={…}`.
    public static func form(_ items: [(String, String)]) -> ClientRequestBody {
        ClientRequestBody(
            storage: .bytes(Array(FormEncoding.encode(items).utf8)),
            contentType: "application/x-www-form-urlencoded"
        )
    }

    /// A `multipart/form-data` form, for fields and files. Mirrors aiohttp's `FormData`.
    public static func multipart(_ form: MultipartForm) -> ClientRequestBody {
        ClientRequestBody(storage: .bytes(form.encoded()), contentType: form.contentType)
    }

    /// A body produced piece by piece: sent chunked, or with Content-Length when `length` is
    /// given (then the stream must yield exactly that many bytes). Each chunk is written when the
    /// connection can take it (the transport's water marks), so a large stream is never held whole.
    ///
    /// Mirrors aiohttp's `data=` with an async generator.
    public static func stream<Chunks: AsyncSequence>(
        _ chunks: Chunks,
        length: Int? = nil,
        contentType: String? = "application/octet-stream"
    ) -> ClientRequestBody where Chunks.Element == [UInt8] {
        var iterator = chunks.makeAsyncIterator()
        return ClientRequestBody(
            storage: .stream(next: { try await iterator.next(isolation: #isolation) }, length: length),
            contentType: contentType
        )
    }
}

/// A `multipart/form-data` body (RFC 7578): text fields and files, in order.
///
/// Mirrors `aiohttp.FormData` with `add_field(name, value, filename=…, content_type=…)`.
/// Deviation: files are given as bytes, not file objects.
public struct MultipartForm: Sendable {
    struct Part: Sendable {
        var name: String
        var filename: String?
        var contentType: String?
        var bytes: [UInt8]
    }

    /// The boundary between parts (random by default).
    public let boundary: String
    var parts: [Part] = []

    /// Creates an empty form; the default boundary is 32 random hex digits.
    public init(boundary: String? = nil) {
        self.boundary =
            boundary
            ?? (0..<16).map { _ in
                let byte = UInt8.random(in: 0...255)
                return String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
            }.joined()
    }

    /// The Content-Type of the encoded form, with its boundary.
    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// Adds a text field.
    public mutating func addField(name: String, value: String) {
        parts.append(Part(name: name, filename: nil, contentType: nil, bytes: Array(value.utf8)))
    }

    /// Adds a file.
    public mutating func addFile(
        name: String,
        filename: String,
        contentType: String = "application/octet-stream",
        bytes: [UInt8]
    ) {
        parts.append(Part(name: name, filename: filename, contentType: contentType, bytes: bytes))
    }

    /// The encoded body.
    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            out.append(contentsOf: "--\(boundary)\r\n".utf8)
            var disposition = "Content-Disposition: form-data; name=\"\(Self.escape(part.name))\""
            if let filename = part.filename { disposition += "; filename=\"\(Self.escape(filename))\"" }
            out.append(contentsOf: "\(disposition)\r\n".utf8)
            if let contentType = part.contentType { out.append(contentsOf: "Content-Type: \(contentType)\r\n".utf8) }
            out.append(contentsOf: "\r\n".utf8)
            out.append(contentsOf: part.bytes)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "--\(boundary)--\r\n".utf8)
        return out
    }

    /// Escapes a name for a quoted parameter as the HTML standard does: `"` and line breaks as
    /// percent escapes, so no name can end the header early.
    static func escape(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "\"": out += "%22"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
