import Glibc
import HTTPTypes
import Logging

/// Writes one line per request to a swift-log logger, in aiohttp's format: aiohttp's `AccessLogger`.
///
/// The default format is aiohttp's, `%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"`, giving
/// `127.0.0.1 [07/Dec/2025:14:06:00 +0000] "GET / HTTP/1.1" 200 14 "-" "curl/7.88.1"`. Directives:
/// `%a` remote address, `%t` time the request started, `%P` process id, `%r` request line, `%s`
/// status, `%b` body bytes sent, `%T` seconds taken, `%Tf` seconds with fractions, `%D`
/// microseconds, `%{Name}i` a request field, `%%` a percent sign. Lines go at `info` level to the
/// logger (label `aiohttp.access` by default).
///
/// Mirrors `aiohttp.web_log.AccessLogger`. Deviation: no `%{Name}o` (response fields).
public struct AccessLogger: Sendable {
    /// aiohttp's default format.
    public static let defaultFormat = #"%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i""#

    enum Directive: Sendable, Equatable {
        case literal(String)
        case remote, time, pid, requestLine, status, bytes, seconds, fractionalSeconds, microseconds
        case requestField(String)
    }

    /// The logger lines go to.
    public let logger: Logger
    let directives: [Directive]

    /// An access logger writing lines in `format` to `logger`.
    public init(logger: Logger = Logger(label: "aiohttp.access"), format: String = AccessLogger.defaultFormat) {
        self.logger = logger
        directives = Self.parse(format)
    }

    /// What one line is made of.
    struct Entry {
        var remote: String
        var started: Int
        var requestLine: String
        var status: Int
        var bytes: Int
        var elapsedNanoseconds: Int64
        var field: (String) -> String?
    }

    func line(for entry: Entry) -> String {
        var text = ""
        for directive in directives {
            switch directive {
            case .literal(let literal): text += literal
            case .remote: text += entry.remote
            case .time: text += Self.formatTime(entry.started)
            case .pid: text += String(getpid())
            case .requestLine: text += entry.requestLine
            case .status: text += String(entry.status)
            case .bytes: text += String(entry.bytes)
            case .seconds: text += String(entry.elapsedNanoseconds / 1_000_000_000)
            case .fractionalSeconds: text += String(format6(Double(entry.elapsedNanoseconds) / 1e9))
            case .microseconds: text += String(entry.elapsedNanoseconds / 1_000)
            case .requestField(let name): text += entry.field(name) ?? "-"
            }
        }
        return text
    }

    func log(_ entry: Entry) {
        logger.info("\(line(for: entry))")
    }

    static func parse(_ format: String) -> [Directive] {
        var result: [Directive] = []
        var literal = ""
        var characters = Substring(format)
        func flush() {
            if !literal.isEmpty { result.append(.literal(literal)) }
            literal = ""
        }
        while let character = characters.popFirst() {
            guard character == "%", let next = characters.first else {
                literal.append(character)
                continue
            }
            characters = characters.dropFirst()
            var directive: Directive?
            switch next {
            case "a": directive = .remote
            case "t": directive = .time
            case "P": directive = .pid
            case "r": directive = .requestLine
            case "s": directive = .status
            case "b": directive = .bytes
            case "D": directive = .microseconds
            case "T":
                if characters.first == "f" {
                    characters = characters.dropFirst()
                    directive = .fractionalSeconds
                } else {
                    directive = .seconds
                }
            case "{":
                if let close = characters.firstIndex(of: "}"), characters.index(after: close) < characters.endIndex,
                    characters[characters.index(after: close)] == "i"
                {
                    directive = .requestField(String(characters[..<close]))
                    characters = characters[characters.index(close, offsetBy: 2)...]
                }
            case "%": literal.append("%")
            default: break
            }
            if let directive {
                flush()
                result.append(directive)
            } else if next != "%" {
                literal.append("%")
                literal.append(next)
            }
        }
        flush()
        return result
    }

    /// `[07/Dec/2025:14:06:00 +0000]`, as aiohttp writes `%t`.
    static func formatTime(_ second: Int) -> String {
        var seconds = time_t(second)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "[\(two(parts.tm_mday))/\(months[Int(parts.tm_mon)])/\(Int(parts.tm_year) + 1900):"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000]"
    }
}

/// `value` with six decimals, without Foundation's `String(format:)`.
private func format6(_ value: Double) -> String {
    let micros = Int((value * 1_000_000).rounded())
    let fraction = String(micros % 1_000_000)
    return "\(micros / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
}
