/// Why a serializer refused to write a head or body.
///
/// Field names, values, reason phrases, methods and targets come from handlers, and a CR or LF
/// in any of them would let a handler's input end the head early and forge a second response
/// (response splitting). The serializer refuses instead of escaping or dropping the byte.
public enum HTTPSerializeError: Error, Hashable, Sendable {
    /// A field name that is empty or not a token.
    case invalidFieldName
    /// A field value with CR, LF, NUL or another control byte other than HTAB.
    case invalidFieldValue
    /// A reason phrase with CR, LF or another control byte other than HTAB.
    case invalidReasonPhrase
    /// A status code outside 100...999.
    case invalidStatusCode
    /// A method that is empty or not a token.
    case invalidMethod
    /// A request-target that is empty or has a byte outside VCHAR.
    case invalidTarget
    /// More or fewer body bytes than the framing declared, or a body where none is allowed.
    case bodyLengthMismatch
}
