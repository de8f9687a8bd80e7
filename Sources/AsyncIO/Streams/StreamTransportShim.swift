/// Temporary: the reading side of a transport, until the transports branch lands.
public protocol ReadTransport: AnyObject {
    func pauseReading()
    func resumeReading()
}
