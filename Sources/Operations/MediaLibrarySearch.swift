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
    /// One drive model of the library: whether its images list the code, and at which speeds.
    public struct ModelLine: Encodable, Sendable {
        public let model: String
        public let images: Int
        public let listedIn: Int
        public let versions: [String]
        public let speeds: [String]
        /// Every table that lists the code here was found heuristically (a strong hint, not a certainty).
        public let heuristic: Bool
    }
    public struct Report: Encodable, Sendable {
        public let query: String
        /// Firmware images searched (files a layout identifies, or that hold the code in a media table found in them).
        public let scanned: Int
        /// Files that are not firmware images (skipped).
        public let skipped: Int
        public let matchedFiles: Int
        public let hits: [Hit]
        public let mentionedOnly: [String]
        public let errors: [String]
        /// With --by-model: one line per drive model the images are for.
        public var byModel: [ModelLine]? = nil
    }

    final class Results: @unchecked Sendable {
        let lock = NSLock()
        var hits: [Hit] = []
        var mentioned: [String] = []
        var errors: [String] = []
        var done = 0
        var images = 0
        var skipped = 0
        /// --by-model: each image's model and version.
        var models: [(file: String, model: String, version: String?)] = []
    }

    /// `progress` gets the files done and the total (called under a lock, from any thread). `modelName` names the
    /// drive model of an image from its INQUIRY strings (firmware-db's model name), for `byModel`.
    public func run(_ query: MediaQuery, paths: [String], mentions: Bool, byModel: Bool = false,
                    modelName: @escaping @Sendable (String, String, String) -> String? = { _, _, _ in nil },
                    progress: @escaping @Sendable (Int, Int) -> Void) throws -> Report {
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
                let layout = inspector.candidates(bytes).first?.0
                var local: [Hit] = []
                if hit {
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
                // An image: a layout identifies it, or it lists the code in a media table found in it.
                let isImage = layout != nil || !local.isEmpty
                var model: (String, String, String?)?
                if byModel && isImage {
                    let r = inspector.inspect(LoadedImage(path: path, container: "bin", member: nil, bytes: bytes))
                    let v = r.vendor ?? "", pr = r.product ?? ""
                    let name = modelName(v, pr, r.version ?? "") ?? (v.isEmpty && pr.isEmpty ? "unknown model (\(layout.map { "\($0.family)/\($0.id)" } ?? "unidentified"))" : "\(v) \(pr)".trimmedSpaces)
                    model = (path, name, r.version)
                }
                results.lock.lock()
                results.hits += local
                if isImage { results.images += 1 } else { results.skipped += 1 }
                if let m = model { results.models.append((file: m.0, model: m.1, version: m.2)) }
                if hit && local.isEmpty { results.mentioned.append(path) }
                results.done += 1
                progress(results.done, total)
                results.lock.unlock()
            }
        }
        let hits = results.hits.sorted { ($0.file, $0.type, $0.code) < ($1.file, $1.type, $1.code) }
        var rep = Report(query: query.text, scanned: results.images, skipped: results.skipped, matchedFiles: Set(hits.map(\.file)).count, hits: hits,
                         mentionedOnly: mentions ? results.mentioned.sorted() : [], errors: results.errors.sorted())
        if byModel {
            var lines: [ModelLine] = []
            for (model, imgs) in Dictionary(grouping: results.models, by: \.model).sorted(by: { $0.key < $1.key }) {
                let files = Set(imgs.map(\.file))
                let its = hits.filter { files.contains($0.file) }
                var speeds: [String] = []
                for h in its { for sp in h.speeds where !speeds.contains(sp) { speeds.append(sp) } }
                speeds.sort { (Double($0.dropLast()) ?? 0) < (Double($1.dropLast()) ?? 0) }
                let listed = Set(its.map(\.file))
                lines.append(ModelLine(model: model, images: files.count, listedIn: listed.count,
                                       versions: Array(Set(imgs.filter { listed.contains($0.file) }.compactMap(\.version))).sorted(), speeds: speeds,
                                       heuristic: !its.isEmpty && its.allSatisfy(\.heuristic)))
            }
            rep.byModel = lines
        }
        return rep
    }
}
