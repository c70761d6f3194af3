// AES-128 (FIPS-197, encryption only) and AES-CMAC (NIST SP 800-38B, RFC 4493). odflash uses them to verify the
// integrity table of MediaTek MT19xx images, whose digest recipe and key are public (see firmware-db); nothing here
// decrypts anything. The block cipher is the CAES shim (C, so a 2 MiB table verifies in milliseconds in debug builds
// too); tested against FIPS-197's and RFC 4493's vectors and an independent tool.
import CAES

public struct AES128: Sendable {
    /// The 11 round keys, 16 bytes each.
    let roundKeys: [UInt8]

    /// nil unless the key is 16 bytes.
    public init?(key: [UInt8]) {
        guard key.count == 16 else { return nil }
        var w = [UInt8](repeating: 0, count: 176)
        key.withUnsafeBufferPointer { k in w.withUnsafeMutableBufferPointer { odflash_aes128_expand(k.baseAddress!, $0.baseAddress!) } }
        roundKeys = w
    }

    /// Encrypts one 16-byte block.
    public func encrypt(_ block: [UInt8]) -> [UInt8] {
        precondition(block.count == 16)
        var out = [UInt8](repeating: 0, count: 16)
        roundKeys.withUnsafeBufferPointer { w in
            block.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer { odflash_aes128_encrypt(w.baseAddress!, b.baseAddress!, $0.baseAddress!) } }
        }
        return out
    }

    /// AES-CMAC of a message (RFC 4493): the 16-byte tag.
    public func cmac(_ message: some Collection<UInt8>) -> [UInt8] {
        var tag = [UInt8](repeating: 0, count: 16)
        let run = { (m: UnsafeBufferPointer<UInt8>) in
            self.roundKeys.withUnsafeBufferPointer { w in
                tag.withUnsafeMutableBufferPointer { odflash_aes128_cmac(w.baseAddress!, m.baseAddress, m.count, $0.baseAddress!) }
            }
        }
        if message.withContiguousStorageIfAvailable(run) == nil { Array(message).withUnsafeBufferPointer(run) }
        return tag
    }
}
