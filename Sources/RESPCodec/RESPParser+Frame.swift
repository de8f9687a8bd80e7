// MARK: - Frames: partially built aggregates on the parser's explicit stack

extension RESPParser {
    /// One aggregate whose header has been read and whose elements are still arriving.
    struct Frame: Sendable {
        enum Kind: Sendable {
            case array
            case set
            case push
            case map
            /// The pairs of an attribute (`|`).
            case attribute
            /// A completed attribute waiting for the one value it describes.
            case attributed

            init(typeByte: UInt8) {
                switch typeByte {
                case UInt8(ascii: "*"): self = .array
                case UInt8(ascii: "~"): self = .set
                case UInt8(ascii: ">"): self = .push
                case UInt8(ascii: "%"): self = .map
                default: self = .attribute
                }
            }
        }

        let kind: Kind
        /// Elements still expected (a map or attribute expects two per pair).
        var remaining: Int
        var elements: [RESPValue] = []
        var pairs: [RESPPair] = []
        var pendingKey: RESPValue?

        /// A frame for an aggregate that declared `count` (> 0) elements or pairs.
        init(kind: Kind, count: Int) {
            self.kind = kind
            // The count is an unverified claim: reserve no more than the cap.
            let reservation = min(count, RESPLimits.reservationCap)
            switch kind {
            case .map, .attribute:
                remaining = count * 2
                pairs.reserveCapacity(reservation)
            default:
                remaining = count
                elements.reserveCapacity(reservation)
            }
        }

        /// A frame waiting for the value that `attributes` describe.
        init(attributes: [RESPPair]) {
            kind = .attributed
            remaining = 1
            pairs = attributes
        }

        /// Adds a completed element; returns true when the frame has all its elements.
        @inline(__always)
        mutating func absorb(_ value: consuming RESPValue) -> Bool {
            switch kind {
            case .map, .attribute:
                if let key = pendingKey {
                    pairs.append(RESPPair(key: key, value: value))
                    pendingKey = nil
                } else {
                    pendingKey = value
                }
            default:
                elements.append(value)
            }
            remaining -= 1
            return remaining == 0
        }

        /// The finished value of a complete frame.
        consuming func finish() -> RESPValue {
            switch kind {
            case .array: .array(elements)
            case .set: .set(elements)
            case .push: .push(elements)
            case .map: .map(pairs)
            case .attribute: .map(pairs)  // never used: a complete attribute becomes `.attributed`
            case .attributed: .attributed(attributes: pairs, value: elements[0])
            }
        }
    }
}
