import AsyncIO
import FoundationEssentials
import Glibc
import HTTPTypes

extension Request {
    /// The media type of the body, lowercased, without parameters (`application/json`);
    /// `application/octet-stream` if none was sent. Mirrors `content_type`.
    public var contentType: String {
        headers[.contentType].map { HeaderParameters(parsing: $0).value } ?? "application/octet-stream"
    }

    /// The `charset` parameter of `Content-Type`, lowercased. Mirrors `charset`.
    public var charset: String? {
        headers[.contentType].flatMap { HeaderParameters(parsing: $0)["charset"]?.lowercased() }
    }

    /// The declared body length (`Content-Length`). Mirrors `content_length`.
    public var contentLength: Int? { headers[.contentLength].flatMap { Int($0) } }

    /// The whole body; read once and kept, so a second call (or ``text()``, ``json(as:decoder:)``
    /// after it) returns the same bytes.
    ///
    /// The parser's `maxBodyLength` (1 MiB by default, 413 beyond) bounds it.
    /// - Throws: the body's errors (``HTTPError`` for a malformed or timed-out body). Mirrors `read()`.
    public func bytes() async throws -> [UInt8] {
        if let cachedBytes { return cachedBytes }
        let bytes = try await body.readAll()
        cachedBytes = bytes
        return bytes
    }

    /// The body as text: UTF-8 unless `charset` says `iso-8859-1`/`latin-1`/`us-ascii`; invalid
    /// UTF-8 becomes U+FFFD. Mirrors `text()`.
    public func text() async throws -> String {
        let bytes = try await bytes()
        switch charset {
        case "iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii":
            var text = ""
            text.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
            return text
        default:
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The body decoded as JSON into `type`.
    ///
    /// - Throws: ``HTTPError/badRequest(text:headers:)`` if the body is not JSON of that shape (a
    ///   client's mistake, so a 400, not the 500 aiohttp gives). Mirrors `json()`.
    public func json<Value: Decodable>(
        as type: Value.Type = Value.self,
        decoder: JSONDecoder = JSONDecoder()
    )
        async throws -> Value
    {
        let bytes = try await bytes()
        do {
            return try decoder.decode(type, from: Data(bytes))
        } catch {
            throw HTTPError.badRequest(text: "400: the body is not valid JSON for \(type)")
        }
    }

    /// A reader of the `multipart/*` body, part by part, each streamed.
    ///
    /// - Throws: ``HTTPError/badRequest(text:headers:)`` if the body is not multipart or has no
    ///   boundary. Mirrors `multipart()`.
    public func multipart() throws -> MultipartReader {
        guard let field = headers[.contentType] else { throw HTTPError.badRequest(text: "400: not a multipart body") }
        let parameters = HeaderParameters(parsing: field)
        guard parameters.value.hasPrefix("multipart/"), let boundary = parameters["boundary"],
            !boundary.isEmpty, boundary.utf8.count <= 70
        else {
            throw HTTPError.badRequest(text: "400: not a multipart body with a boundary")
        }
        return MultipartReader(body: body, boundary: boundary)
    }

    /// The form the body carries: `application/x-www-form-urlencoded` or `multipart/form-data`.
    ///
    /// Text fields go to ``FormData/fields``; files (multipart parts with a filename) are streamed
    /// to temporary files, never held whole in memory, and removed when the ``FormData`` goes
    /// away. Any other content type gives an empty form, as in aiohttp.
    /// - Parameter maxFieldBytes: the most bytes of text fields together (files aside).
    /// - Throws: ``HTTPError`` (400 malformed, 413 over `maxFieldBytes`); `SystemError` if a
    ///   temporary file cannot be written. Mirrors `post()`.
    public func post(maxFieldBytes: Int = 1 << 20) async throws -> FormData {
        switch contentType {
        case "application/x-www-form-urlencoded":
            let bytes = try await body.readAll(limit: maxFieldBytes)
            cachedBytes = bytes
            return FormData(fields: QueryItems(parsing: String(decoding: bytes, as: UTF8.self)))
        case "multipart/form-data":
            let form = FormData()
            let reader = try multipart()
            var fieldBytes = 0
            while let part = try await reader.next() {
                guard let name = part.name else { continue }
                if let filename = part.filename {
                    form.files.append(try await FormFile.spool(part, name: name, filename: filename))
                } else {
                    let value = try await part.bytes(limit: maxFieldBytes - fieldBytes)
                    fieldBytes += value.count
                    form.fields.items.append((name, String(decoding: value, as: UTF8.self)))
                }
            }
            return form
        default:
            return FormData()
        }
    }
}

/// A submitted form: text fields and uploaded files. Mirrors the `MultiDict` of `request.post()`.
public final class FormData {
    /// The text fields, in order.
    public internal(set) var fields: QueryItems
    /// The uploaded files, in order; each in a temporary file removed with this value.
    public internal(set) var files: [FormFile] = []

    init(fields: QueryItems = QueryItems()) {
        self.fields = fields
    }

    /// The first text field named `name`.
    public subscript(name: String) -> String? { fields[name] }

    /// The first file of the field `name`.
    public func file(_ name: String) -> FormFile? { files.first { $0.name == name } }

    deinit {
        for file in files where !file.path.isEmpty { unlink(file.path) }
    }
}

/// An uploaded file of a form, spooled to a temporary file. Mirrors aiohttp's `FileField`.
public struct FormFile: Sendable {
    /// The form field's name.
    public var name: String
    /// The file name the client gave (not sanitized: never use it as a path as it is).
    public var filename: String
    /// The part's `Content-Type`.
    public var contentType: String
    /// The temporary file holding the content; move it (`rename`) to keep it past the ``FormData``.
    public var path: String
    /// The content's length in bytes.
    public var size: Int

    /// Streams `part` into a new temporary file.
    static func spool(_ part: BodyPart, name: String, filename: String) async throws -> FormFile {
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(directory)/asyncio-upload-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SystemError(call: "mkstemp", errno: errno) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { close(fd) }
        var size = 0
        do {
            while let chunk = try await part.readChunk() {
                try chunk.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                        if written < 0 {
                            if errno == EINTR { continue }
                            throw SystemError(call: "write", errno: errno)
                        }
                        offset += written
                    }
                }
                size += chunk.count
            }
        } catch {
            unlink(path)
            throw error
        }
        return FormFile(name: name, filename: filename, contentType: part.contentType, path: path, size: size)
    }
}
