import HTTPTypes

/// The parsed head of a response: status line, framing decision and lazily read fields.
///
/// Like ``RequestHead`` it keeps the bytes it was parsed from and offsets into them.
public struct ResponseHead: Sendable {
    let storage: [UInt8]
    /// Where the head starts in ``storage``; every other offset is relative to it.
    let offset: Int
    let length: Int
    let reasonEnd: Int
    let fieldsStart: Int
    let fieldCount: Int
    /// The HTTP version of the response.
    public let version: HTTPVersion
    /// The three-digit status code.
    public let statusCode: Int
    /// How the response body is delimited, given the request it answers.
    public let framing: BodyFraming
    /// Whether the connection can carry another request after this response.
    public let keepAlive: Bool

    init(section: Section, parsed: ParsedResponseHead) {
        storage = section.storage
        offset = section.offset
        length = section.length
        reasonEnd = parsed.reasonEnd
        fieldsStart = parsed.fieldsStart
        fieldCount = parsed.fieldCount
        version = parsed.version
        statusCode = parsed.statusCode
        framing = parsed.framing
        keepAlive = parsed.keepAlive
    }

    /// The raw bytes of the head, from the status line to the final empty line.
    public var bytes: ArraySlice<UInt8> { storage[offset..<offset + length] }

    /// The reason phrase as it appeared (possibly empty); it starts after `HTTP/1.1 200 `.
    public var reasonBytes: ArraySlice<UInt8> { storage[offset + 13..<offset + reasonEnd] }

    /// The field lines, read lazily from the head's bytes.
    public var fields: HTTPFieldLines {
        HTTPFieldLines(storage: storage, start: offset + fieldsStart, count: fieldCount)
    }

    /// Whether this is an interim (1xx) response; the final response follows it.
    public var isInformational: Bool { statusCode < 200 }

    /// Builds swift-http-types' `HTTPResponse`.
    ///
    /// The reason phrase is decoded as ISO Latin 1, which is what swift-http-types stores.
    public func makeHTTPResponse() -> HTTPResponse {
        let reason = String(reasonBytes.map { Character(Unicode.Scalar($0)) })
        return HTTPResponse(
            status: HTTPResponse.Status(code: statusCode, reasonPhrase: reason),
            headerFields: fields.makeHTTPFields()
        )
    }
}
