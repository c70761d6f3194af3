import SCSI

/// Echoes every CDB (and its outcome) to a sink: `odflash -v`.
public final class EchoingTransport: SCSITransport {
    public let inner: any SCSITransport
    let sink: (String) -> Void
    public var deviceName: String { inner.deviceName }
    public var kind: String { inner.kind }

    public init(_ inner: any SCSITransport, sink: @escaping (String) -> Void) {
        self.inner = inner
        self.sink = sink
    }

    public func execute(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double) throws -> CommandResult {
        sink("-> \(cdb) (\(cdb.name)) \(transfer.direction.rawValue) \(transfer.length)")
        do {
            let r = try inner.execute(cdb, transfer, timeout: timeout)
            sink("<- \(r.status.name)" + (r.sense.map { " sense \($0)" } ?? "") + (transfer.direction == .fromDevice ? ", \(r.data.count) bytes" : ""))
            return r
        } catch {
            sink("<- transport error: \(error)")
            throw error
        }
    }

    public func close() { inner.close() }
}
