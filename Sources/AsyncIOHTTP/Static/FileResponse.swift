import AsyncIO
import Glibc
import HTTPTypes

/// A response whose body is a file, sent with `sendfile(2)` (the kernel copies the file to the
/// socket; no byte passes through user space): aiohttp's `web.FileResponse`.
///
/// Return one from a handler: `FileResponse(path: "/srv/report.pdf")`. It answers:
/// - `200` with `Content-Length`, a `Content-Type` from the file's extension (``MIMETypes``),
///   `ETag` (`"<mtime ns hex>-<size hex>"`, as aiohttp's), `Last-Modified` and
///   `Accept-Ranges: bytes`;
/// - `304 Not Modified` when `If-None-Match` matches the ETag (weakly), or, without
///   `If-None-Match`, when the file is not newer than `If-Modified-Since` (`GET` and `HEAD`);
/// - `412 Precondition Failed` when `If-Match` or `If-Unmodified-Since` fail;
/// - `206 Partial Content` for a single `Range` (`bytes=a-b`, `a-`, `-n`; honoured only if
///   `If-Range` matches, when sent), `416` with `Content-Range: bytes */size` when it cannot be
///   satisfied; a multi-range request gets the whole file (RFC 9110 allows ignoring `Range`);
/// - `404` if the file does not exist or is not a regular file, `403` if it cannot be read.
///
/// Mirrors `aiohttp.web.FileResponse(path, chunk_size, status, reason, headers)`. Deviation: no
/// `Content-Encoding` for `.gz` siblings.
public final class FileResponse: StreamResponse {
    /// The file's path.
    public let path: String
    /// The task that runs `loop.sendfile` (it owns the file descriptor until it ends).
    private var transfer: LoopTask<Void>?

    /// A response for the file at `path`.
    public init(path: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) {
        self.path = path
        super.init(status: status, headers: headers)
    }

    override public func prepare(_ request: Request) async throws {
        guard !isPrepared else { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw errno == EACCES ? HTTPError.forbidden() : HTTPError.notFound()
        }
        var ownsFile = true
        defer { if ownsFile { close(fd) } }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw HTTPError.notFound() }
        let size = Int(info.st_size)
        let modifiedSecond = Int(info.st_mtim.tv_sec)
        let mtimeNanoseconds = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
        let etag = "\"\(String(mtimeNanoseconds, radix: 16))-\(String(size, radix: 16))\""
        let lastModified = String(decoding: DateCache.format(modifiedSecond), as: UTF8.self)

        headers[.eTag] = etag
        headers[.lastModified] = lastModified
        headers[.acceptRanges] = "bytes"
        let isRead = request.method == .get || request.method == .head
        switch Self.evaluatePreconditions(request.headers, etag: etag, modified: modifiedSecond, isRead: isRead) {
        case .notModified:
            status = .notModified
            try await super.prepare(request)
            try await writeEOF()
            return
        case .preconditionFailed:
            throw HTTPError(.preconditionFailed)
        case .proceed:
            break
        }
        if contentType == nil, headers[.contentType] == nil { contentType = MIMETypes.type(forPath: path) }

        var range = 0..<size
        if request.method == .get, let field = request.headers[.range],
            Self.rangeApplies(request.headers[.ifRange], etag: etag, lastModified: lastModified)
        {
            switch Self.parseRange(field, size: size) {
            case .whole:
                break
            case .unsatisfiable:
                throw HTTPError.rangeNotSatisfiable(length: size)
            case .part(let part):
                range = part
                status = .partialContent
                headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound - 1)/\(size)"
            }
        }
        contentLength = range.count
        try await super.prepare(request)
        ownsFile = false
        try await sendFile(fd, range: range)
        try await writeEOF()
    }

    /// Sends `range` of the file through the connection with `loop.sendfile`, in a task that owns
    /// (and closes) `fd`, so that a handler cancelled meanwhile cannot close it under the transfer.
    private func sendFile(_ fd: Int32, range: Range<Int>) async throws {
        guard let connection, let loop = connection.eventLoop, !range.isEmpty else {
            close(fd)
            return
        }
        connection.response.written += range.count
        guard !connection.response.suppressBody, connection.socketTransport != nil else {
            close(fd)
            return
        }
        connection.flush()
        loop.runIsolated(self, (fd, range)) { response, file, loop in
            guard let transport = response.connection?.socketTransport else { return }
            response.transfer = loop.createTask(name: "sendfile") {
                defer { close(file.0) }
                try await loop.sendfile(transport, file: file.0, offset: file.1.lowerBound, count: file.1.count)
            }
        }
        guard let transfer else {
            close(fd)
            throw ResponseError.exchangeOver
        }
        try await transfer.value
    }

    // MARK: - Conditions (RFC 9110 §13.2.2)

    enum Precondition: Equatable {
        case proceed
        case notModified
        case preconditionFailed
    }

    static func evaluatePreconditions(_ fields: HTTPFields, etag: String, modified: Int, isRead: Bool) -> Precondition {
        if let ifMatch = fields[.ifMatch] {
            guard Substring(ifMatch).trimmingASCIISpaces() == "*" || entityTags(ifMatch).contains(where: { $0 == etag })
            else {
                return .preconditionFailed
            }
        } else if let since = fields[.ifUnmodifiedSince].flatMap(HTTPDate.parse), modified > since {
            return .preconditionFailed
        }
        if let ifNoneMatch = fields[.ifNoneMatch] {
            let matches =
                Substring(ifNoneMatch).trimmingASCIISpaces() == "*"
                || entityTags(ifNoneMatch).contains { weak($0) == weak(etag) }
            if matches { return isRead ? .notModified : .preconditionFailed }
        } else if isRead, let since = fields[.ifModifiedSince].flatMap(HTTPDate.parse), modified <= since {
            return .notModified
        }
        return .proceed
    }

    /// The entity-tags of a list (`"a", W/"b"`).
    static func entityTags(_ list: String) -> [String] {
        list.split(separator: ",").map { String(Substring($0).trimmingASCIISpaces()) }.filter { !$0.isEmpty }
    }

    /// A tag without its weakness marker, for the weak comparison.
    static func weak(_ tag: String) -> Substring { tag.hasPrefix("W/") ? tag.dropFirst(2) : tag[...] }

    /// Whether `Range` is honoured given `If-Range` (absent, a strong ETag, or the exact date).
    static func rangeApplies(_ ifRange: String?, etag: String, lastModified: String) -> Bool {
        guard let ifRange = ifRange.map({ String(Substring($0).trimmingASCIISpaces()) }) else { return true }
        if ifRange.hasPrefix("\"") { return ifRange == etag }
        if ifRange.hasPrefix("W/") { return false }
        return ifRange == lastModified
    }

    // MARK: - Ranges (RFC 9110 §14)

    enum RangeAnswer: Equatable {
        /// No usable single range: send the whole file.
        case whole
        case part(Range<Int>)
        case unsatisfiable
    }

    static func parseRange(_ field: String, size: Int) -> RangeAnswer {
        let text = Substring(field).trimmingASCIISpaces()
        guard text.lowercased().hasPrefix("bytes=") else { return .whole }
        let spec = text.dropFirst(6).trimmingASCIISpaces()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash].trimmingASCIISpaces()
        let last = spec[spec.index(after: dash)...].trimmingASCIISpaces()
        func number(_ digits: Substring) -> Int? {
            guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber)
            else { return nil }
            return Int(digits)
        }
        if first.isEmpty {
            guard let suffix = number(last) else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .part(max(0, size - suffix)..<size)
        }
        guard let start = number(first) else { return .whole }
        var end = size - 1
        if !last.isEmpty {
            guard let parsed = number(last), parsed >= start else { return .whole }
            end = min(parsed, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .part(start..<(end + 1))
    }
}

/// HTTP dates (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms a
/// recipient must accept.
enum HTTPDate {
    /// Seconds since the epoch, or nil if `text` is no HTTP date.
    static func parse(_ text: String) -> Int? {
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        let words = text.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "," }).map { $0.lowercased() }
        var day: Int?
        var month: Int?
        var year: Int?
        var clock: [Int]?
        for word in words.dropFirst() {
            if let index = months.firstIndex(of: word) {
                month = index
            } else if word.contains(":") {
                let parts = word.split(separator: ":").compactMap { Int($0) }
                guard parts.count == 3 else { return nil }
                clock = parts
            } else if word == "gmt" {
                continue
            } else if let value = Int(word) {
                if day == nil, value <= 31, word.count <= 2 { day = value } else { year = value }
            } else {
                return nil
            }
        }
        guard let day, let month, var year, let clock, (1...31).contains(day), clock[0] < 24, clock[1] < 60,
            clock[2] <= 60
        else { return nil }
        if year < 100 { year += year < 70 ? 2000 : 1900 }  // RFC 850's two-digit years
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(clock[0])
        parts.tm_min = Int32(clock[1])
        parts.tm_sec = Int32(clock[2])
        return timegm(&parts)
    }
}

/// Media types by file extension, for files served as they are.
///
/// Text types carry `charset=utf-8`. Unknown extensions are `application/octet-stream`.
/// Mirrors Python's `mimetypes.guess_type`, which aiohttp's `FileResponse` uses.
public enum MIMETypes {
    /// Extensions (lowercase, no dot) and their types. Set ``StreamResponse/contentType`` for others.
    public static let byExtension: [String: String] = [
        "html": "text/html", "htm": "text/html", "css": "text/css", "js": "text/javascript",
        "mjs": "text/javascript", "json": "application/json", "txt": "text/plain", "md": "text/markdown",
        "csv": "text/csv", "xml": "application/xml", "svg": "image/svg+xml", "png": "image/png",
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
        "avif": "image/avif", "ico": "image/vnd.microsoft.icon", "pdf": "application/pdf",
        "zip": "application/zip", "gz": "application/gzip", "tar": "application/x-tar",
        "wasm": "application/wasm", "mp4": "video/mp4", "webm": "video/webm", "mp3": "audio/mpeg",
        "ogg": "audio/ogg", "wav": "audio/wav", "woff": "font/woff", "woff2": "font/woff2",
        "ttf": "font/ttf", "otf": "font/otf", "map": "application/json",
    ]

    /// The type for `path`'s extension.
    public static func type(forPath path: String) -> String {
        let name = path.split(separator: "/").last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "application/octet-stream" }
        let type = byExtension[name[name.index(after: dot)...].lowercased()] ?? "application/octet-stream"
        return type.hasPrefix("text/") ? type + "; charset=utf-8" : type
    }
}
