import SCSI

/// Echoes every CDB (and its outcome) to a sink: `odflash -v`.
public final class EchoingTransport: SCSITransport {
    public let inner: any SCSITransport
    let sink: (String) -> Void
    /// How much data to show, as sg3_utils' -v levels: 0 the CDB and status only; 1 also each response's bytes in hex
    /// (the first 256); 2 every byte of each response and of the data sent.
    public var dataLevel = 0
    public var deviceName: String { inner.deviceName }
    public var kind: String { inner.kind }

    public init(_ inner: any SCSITransport, sink: @escaping (String) -> Void) {
        self.inner = inner
        self.sink = sink
    }

    public func execute(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double) throws -> CommandResult {
        sink("-> \(cdb) (\(cdb.name)) \(transfer.direction.rawValue) \(transfer.length)")
        if dataLevel >= 2, case let .toDevice(d) = transfer { dump(Array(d), limit: nil) }
        do {
            let r = try inner.execute(cdb, transfer, timeout: timeout)
            sink("<- \(r.status.name)" + (r.sense.map { " sense \($0)" } ?? "") + (transfer.direction == .fromDevice ? ", \(r.data.count) bytes" : ""))
            if dataLevel >= 1, transfer.direction == .fromDevice { dump(r.data, limit: dataLevel >= 2 ? nil : 256) }
            return r
        } catch {
            sink("<- transport error: \(error)")
            throw error
        }
    }

    public func close() { inner.close() }

    private func dump(_ bytes: [UInt8], limit: Int?) {
        let shown = limit.map { Array(bytes.prefix($0)) } ?? bytes
        for line in Hex.dump(shown) { sink("  " + line) }
        if shown.count < bytes.count { sink("   ... \(bytes.count - shown.count) more bytes (-vvv shows all)") }
    }
}
