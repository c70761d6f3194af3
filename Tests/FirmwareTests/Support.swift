import Foundation
@testable import Firmware
import FirmwareDB

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let db: FirmwareDatabase = try! FirmwareDatabase.load(root: repoRoot + "/firmware-db")

func layout(_ family: String, _ id: String) -> ImageLayout {
    db.family(family)!.layouts.first { $0.id == id }!
}

func generate(_ l: ImageLayout, seed: UInt64 = 7, _ tweak: (inout SyntheticSpec) -> Void = { _ in }) throws -> [UInt8] {
    var spec = SyntheticSpec()
    spec.seed = seed
    spec.configID = db.models.first { $0.family == l.family && $0.imageID != nil }?.imageID
    tweak(&spec)
    return try SyntheticImage.generate(l, spec, idTables: db.idTables)
}

func inspect(_ bytes: [UInt8], heuristic: Bool = false) -> InspectReport {
    var i = Inspector(layouts: db.layouts, idTables: db.idTables)
    i.alwaysHeuristic = heuristic
    return i.inspect(LoadedImage(path: "test.bin", container: "bin", member: nil, bytes: bytes))
}

func tempDir() -> String {
    let d = NSTemporaryDirectory() + "odflash-fw-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}
