import Dispatch
import Firmware
import Foundation
import SCSI
#if canImport(Glibc)
import Glibc
#endif

/// Which firmware images (files and folders) list a media code, on every core: a literal pre-scan keeps it near grep's
/// speed, then the image's tables confirm it (exact where the layout is known, heuristic otherwise).
public struct MediaLibrarySearch: Sendable {
    public let inspector: Inspector
    public init(inspector: Inspector) { self.inspector = inspector }

    public struct Hit: Encodable, Sendable {
        public let file: String
        public let family: String?
        public let table: String
        public let type: String
        public let code: String
        public let speeds: [String]
        public let heuristic: Bool
        public let confidence: Double?
    }
    public struct Report: Encodable, Sendable {
        public let query: String
        public let scanned: Int
        public let matchedFiles: Int
        public let hits: [Hit]
        public let mentionedOnly: [String]
        public let errors: [String]
    }

    final class Results: @unchecked Sendable {
        let lock = NSLock()
        var hits: [Hit] = []
        var mentioned: [String] = []
        var errors: [String] = []
        var fatal: [String] = []
        var done = 0
    }

    /// `progress` gets the files done and the total (called under a lock, from any thread).
    public func run(_ query: MediaQuery, paths: [String], mentions: Bool, progress: @escaping @Sendable (Int, Int) -> Void) throws -> Report {
        var st = stat()
        for p in paths where FileName.withPath(p, { stat($0, &st) }) != 0 {
            throw OperationError("\(p): no such file or folder", kind: .input)
        }
        let files = LiteralScan.files(paths)
        // A file named on the command line must be readable (a FIFO, a device, a zip that lies: an error); a file
        // found in a folder that is not an image is skipped and listed.
        let named = Set(paths)
        let literals = query.literals
        let results = Results()
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, files.count))
        let total = files.count
        let inspector = self.inspector
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var k = w
            while k < total {
                let path = files[k]
                k += workers
                var local: [Hit] = []
                var mentioned: [String] = []
                var failure: ImageFileError?
                do {
                    // .bin files are scanned as read; .gz streams and every firmware member of a .zip are unpacked.
                    try ImageFile.forEachImage(path) { image in
                        let bytes = image.bytes
                        let name = image.member.map { "\(path):\($0)" } ?? path
                        guard bytes.withUnsafeBytes({ LiteralScan.contains($0, literals) }) else { return }
                        let before = local.count
                        let layout = inspector.candidates(bytes).first?.0
                        for t in MediaCheck.tables(layout, inspector, bytes) {
                            for e in t.entries where query.matches(e) {
                                var conf: Double?
                                if case let .heuristic(c, _) = t.source { conf = c }
                                local.append(Hit(file: name, family: layout.map { "\($0.family)/\($0.id)" }, table: t.name,
                                                 type: e.type.rawValue, code: e.code, speeds: e.speeds.map(SpeedBits.format),
                                                 heuristic: t.isHeuristic, confidence: conf))
                            }
                        }
                        if local.count == before { mentioned.append(name) }
                    }
                } catch let e as ImageFileError {
                    failure = e
                } catch {
                    failure = .unreadable(path, "\(error)")
                }
                results.lock.lock()
                if let f = failure {
                    if named.contains(path) { results.fatal.append(f.description) }
                    else if case .empty = f {} else { results.errors.append(f.description) }
                }
                results.hits += local
                results.mentioned += mentioned
                results.done += 1
                progress(results.done, total)
                results.lock.unlock()
            }
        }
        if let f = results.fatal.sorted().first { throw OperationError(f, kind: .input) }
        let hits = results.hits.sorted { ($0.file, $0.type, $0.code) < ($1.file, $1.type, $1.code) }
        return Report(query: query.text, scanned: total, matchedFiles: Set(hits.map(\.file)).count, hits: hits,
                      mentionedOnly: mentions ? results.mentioned.sorted() : [], errors: results.errors.sorted())
    }
}
