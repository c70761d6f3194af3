import Dispatch
import Firmware
import Foundation

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
        var done = 0
    }

    /// `progress` gets the files done and the total (called under a lock, from any thread).
    public func run(_ query: MediaQuery, paths: [String], mentions: Bool, progress: @escaping @Sendable (Int, Int) -> Void) throws -> Report {
        for p in paths where !FileManager.default.fileExists(atPath: p) {
            throw OperationError("\(p): no such file or folder", kind: .input)
        }
        let files = LiteralScan.files(paths)
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
                let bytes: [UInt8]
                do { bytes = try ImageFile.readFile(path) } catch let e as ImageFileError {
                    if case .empty = e {} else { results.lock.lock(); results.errors.append(e.description); results.lock.unlock() }
                    continue
                } catch { continue }
                let hit = bytes.withUnsafeBytes { LiteralScan.contains($0, literals) }
                var local: [Hit] = []
                if hit {
                    let layout = inspector.candidates(bytes).first?.0
                    for t in MediaCheck.tables(layout, inspector, bytes) {
                        for e in t.entries where query.matches(e) {
                            var conf: Double?
                            if case let .heuristic(c, _) = t.source { conf = c }
                            local.append(Hit(file: path, family: layout.map { "\($0.family)/\($0.id)" }, table: t.name,
                                             type: e.type.rawValue, code: e.code, speeds: e.speeds.map(SpeedBits.format),
                                             heuristic: t.isHeuristic, confidence: conf))
                        }
                    }
                }
                results.lock.lock()
                results.hits += local
                if hit && local.isEmpty { results.mentioned.append(path) }
                results.done += 1
                progress(results.done, total)
                results.lock.unlock()
            }
        }
        let hits = results.hits.sorted { ($0.file, $0.type, $0.code) < ($1.file, $1.type, $1.code) }
        return Report(query: query.text, scanned: total, matchedFiles: Set(hits.map(\.file)).count, hits: hits,
                      mentionedOnly: mentions ? results.mentioned.sorted() : [], errors: results.errors.sorted())
    }
}
