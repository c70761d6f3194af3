#if canImport(Glibc)
import Glibc
#endif

// SHA-256 (FIPS 180-4): transcript data digests and firmware image identification.
// Uses OpenSSL's libcrypto when the system has it (it runs on the CPU's SHA extensions), loaded on first
// use so that commands that never hash pay nothing for it; otherwise a portable Swift implementation.

/// libcrypto's one-shot digest, found with dlopen.
private final class LibCrypto: @unchecked Sendable {
    typealias DigestFn = @convention(c) (UnsafeRawPointer?, Int, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt32>?, OpaquePointer?, OpaquePointer?) -> Int32
    typealias MDFn = @convention(c) () -> OpaquePointer?
    let digest: DigestFn
    let sha256: MDFn

    static let shared: LibCrypto? = {
        if getenv("ODFLASH_PORTABLE_SHA256") != nil { return nil }
        for name in ["libcrypto.so.3", "libcrypto.so"] {
            guard let h = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            if let d = dlsym(h, "EVP_Digest"), let m = dlsym(h, "EVP_sha256") {
                return LibCrypto(digest: unsafeBitCast(d, to: DigestFn.self), sha256: unsafeBitCast(m, to: MDFn.self))
            }
        }
        return nil
    }()

    init(digest: DigestFn, sha256: MDFn) { self.digest = digest; self.sha256 = sha256 }

    func hash(_ b: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        let ok = out.withUnsafeMutableBufferPointer { o in digest(b.baseAddress, b.count, o.baseAddress, &len, sha256(), nil) }
        return ok == 1 && len == 32 ? out : nil
    }
}

public struct SHA256 {
    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    private var pending: [UInt8] = []
    private var total: UInt64 = 0

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    public init() {}

    public mutating func update(_ data: some Collection<UInt8>) {
        let a = Array(data)
        a.withUnsafeBufferPointer { update(buffer: $0) }
    }

    public mutating func update(buffer: UnsafeBufferPointer<UInt8>) {
        var offset = 0
        total &+= UInt64(buffer.count)
        if !pending.isEmpty {
            let take = min(64 - pending.count, buffer.count)
            pending.append(contentsOf: buffer[0..<take])
            offset = take
            if pending.count == 64 {
                let block = pending
                block.withUnsafeBufferPointer { compress($0, 0) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        while buffer.count - offset >= 64 {
            compress(buffer, offset)
            offset += 64
        }
        if offset < buffer.count { pending.append(contentsOf: buffer[offset...]) }
    }

    private mutating func compress(_ b: UnsafeBufferPointer<UInt8>, _ o: Int) {
        // The message schedule lives on the stack: no allocation per 64-byte block.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for i in 0..<16 {
                let j = o + 4 * i
                w[i] = UInt32(b[j]) << 24 | UInt32(b[j + 1]) << 16 | UInt32(b[j + 2]) << 8 | UInt32(b[j + 3])
            }
            for i in 16..<64 {
                let x = w[i - 15], y = w[i - 2]
                w[i] = w[i - 16] &+ (x.rotr(7) ^ x.rotr(18) ^ (x >> 3)) &+ w[i - 7] &+ (y.rotr(17) ^ y.rotr(19) ^ (y >> 10))
            }
            var (a, bb, c, d, e, f, g, hh) = h
            SHA256.k.withUnsafeBufferPointer { k in
                for i in 0..<64 {
                    let t1 = hh &+ (e.rotr(6) ^ e.rotr(11) ^ e.rotr(25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
                    let t2 = (a.rotr(2) ^ a.rotr(13) ^ a.rotr(22)) &+ ((a & bb) ^ (a & c) ^ (bb & c))
                    hh = g; g = f; f = e; e = d &+ t1; d = c; c = bb; bb = a; a = t1 &+ t2
                }
            }
            h = (h.0 &+ a, h.1 &+ bb, h.2 &+ c, h.3 &+ d, h.4 &+ e, h.5 &+ f, h.6 &+ g, h.7 &+ hh)
        }
    }

    public mutating func finalize() -> [UInt8] {
        let bits = total &* 8
        var tail: [UInt8] = [0x80]
        while (pending.count + tail.count) % 64 != 56 { tail.append(0) }
        tail += Bytes.encodeBE(bits, count: 8)
        let saved = total
        tail.withUnsafeBufferPointer { update(buffer: $0) }
        total = saved
        return [h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7].flatMap { Bytes.encodeBE(UInt64($0), count: 4) }
    }

    /// The digest of a whole buffer, through libcrypto when available.
    public static func digest(_ b: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        if let lc = LibCrypto.shared, let d = lc.hash(b) { return d }
        var s = SHA256()
        s.update(buffer: b)
        return s.finalize()
    }

    /// The portable implementation alone (tests compare it with libcrypto).
    public static func portableHex(_ data: [UInt8]) -> String {
        var s = SHA256()
        data.withUnsafeBufferPointer { s.update(buffer: $0) }
        return Hex.bytes(s.finalize(), separator: "").lowercased()
    }

    public static func hex(_ data: [UInt8]) -> String {
        Hex.bytes(data.withUnsafeBufferPointer { digest($0) }, separator: "").lowercased()
    }
}

private extension UInt32 {
    @inline(__always) func rotr(_ n: UInt32) -> UInt32 { (self >> n) | (self << (32 - n)) }
}
