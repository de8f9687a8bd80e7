/// Moves a value across an isolation boundary the compiler cannot see through.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    // SAFETY: every use site says why the value is only touched on its owning thread.
    let value: Value
    init(_ value: Value) { self.value = value }
}
