import Testing
@testable import SCSI

/// The one grammar for typed numbers: strict whole numbers in a range, speeds, control characters named.
@Suite struct NumberSyntaxTests {
    @Test(arguments: ["0", "7", "100000"])
    func wholeNumbersInRange(_ s: String) { #expect(NumberSyntax.integer(s, 0...100_000) == Int(s)) }

    @Test(arguments: ["", " 4", "4 ", "+4", "-1", "1_000", "1e3", "1.5", "0x10", "4x", "\u{0664}", "--1",
                      "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616", "100001"])
    func everythingElseIsRefused(_ s: String) { #expect(NumberSyntax.integer(s, 0...100_000) == nil) }

    @Test func hexOnlyWhereAllowedAndSignOnlyWhereNegativesExist() {
        #expect(NumberSyntax.integer("0x100", 1...0x1000, hex: true) == 0x100)
        #expect(NumberSyntax.integer("0x", 1...0x1000, hex: true) == nil)
        #expect(NumberSyntax.integer("-5", -10...10) == -5)
        #expect(NumberSyntax.integer("-9223372036854775808", Int.min...0) == Int.min)
        #expect(NumberSyntax.unsigned("18446744073709551615") == UInt64.max)
        #expect(NumberSyntax.unsigned("18446744073709551616") == nil)
    }

    @Test(arguments: [("8x", 8.0), ("2.4x", 2.4), ("16", 16.0), ("4X", 4.0)])
    func speeds(_ s: String, _ v: Double) { #expect(NumberSyntax.speed(s) == v) }

    @Test(arguments: ["1e300x", "inf", "infx", "nanx", "-4x", "0x", "0", "4xx", "x", "", ".5x", "4.x", "4.5.5x", "0x10x",
                      "9223372036854775808x", "1001x", " 4x", "4 x"])
    func notSpeeds(_ s: String) { #expect(NumberSyntax.speed(s) == nil) }

    @Test func speedLists() {
        #expect((try? NumberSyntax.speeds("4x,8x,12x").get()) == [4, 8, 12])
        #expect(throws: NumberSyntax.ListError.empty) { try NumberSyntax.speeds("4,").get() }
        #expect(throws: NumberSyntax.ListError.empty) { try NumberSyntax.speeds(",4x").get() }
        #expect(throws: NumberSyntax.ListError.empty) { try NumberSyntax.speeds("4x,,8x").get() }
        #expect(throws: NumberSyntax.ListError.tooMany(65)) { try NumberSyntax.speeds(Array(repeating: "4x", count: 65).joined(separator: ",")).get() }
    }

    @Test func controlCharactersAreNamedEscaped() {
        #expect(NumberSyntax.controlCharacter(in: "EVIL\u{1B}[2J") == "\\x1b")
        #expect(NumberSyntax.controlCharacter(in: "A\u{9B}") == "\\x9b")
        #expect(NumberSyntax.controlCharacter(in: "CMC MAG. AE1") == nil)
        #expect(NumberSyntax.escaped("a\rb\u{7F}") == "a\\x0db\\x7f")
    }
}
