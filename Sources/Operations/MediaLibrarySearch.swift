import Dispatch
import Firmware
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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
        let lock = Lock()
        var hits: [Hit] = []
        var mentioned: [String] = []
        var errors: [String] = []
        var fatal: [String] = []
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
                var images = 0, skipped = 0
                var models: [(file: String, model: String, version: String?)] = []
                do {
                    // .bin files are scanned as read; .gz streams and every firmware member of a .zip are unpacked.
                    try ImageFile.forEachImage(path) { image in
                        let bytes = image.bytes
                        let name = image.member.map { "\(path):\($0)" } ?? path
                        let hit = bytes.withUnsafeBytes { LiteralScan.contains($0, literals) }
                        let before = local.count
                        let layout = inspector.candidates(bytes).first?.0
                        for t in hit ? MediaCheck.tables(layout, inspector, bytes) : [] {
                            for e in t.entries where query.matches(e) {
                                var conf: Double?
                                if case let .heuristic(c, _) = t.source { conf = c }
                                local.append(Hit(file: name, family: layout.map { "\($0.family)/\($0.id)" }, table: t.name,
                                                 type: e.type.rawValue, code: e.code, speeds: e.speeds.map(SpeedBits.format),
                                                 heuristic: t.isHeuristic, confidence: conf))
                            }
                        }
                        if hit && local.count == before { mentioned.append(name) }
                        // An image: a layout identifies it, or it lists the code in a media table found in it.
                        let isImage = layout != nil || local.count > before
                        if isImage { images += 1 } else { skipped += 1 }
                        if byModel && isImage {
                            let r = inspector.inspect(image)
                            let v = r.vendor ?? "", pr = r.product ?? ""
                            let model = modelName(v, pr, r.version ?? "")
                                ?? (v.isEmpty && pr.isEmpty ? "unknown model (\(layout.map { "\($0.family)/\($0.id)" } ?? "unidentified"))" : "\(v) \(pr)".trimmedSpaces)
                            models.append((file: name, model: model, version: r.version))
                        }
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
                results.images += images
                results.skipped += skipped
                results.models += models
                results.mentioned += mentioned
                results.done += 1
                progress(results.done, total)
                results.lock.unlock()
            }
        }
        if let f = results.fatal.sorted().first { throw OperationError(f, kind: .input) }
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
