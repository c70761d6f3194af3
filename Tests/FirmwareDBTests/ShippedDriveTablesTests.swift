import Foundation
import Testing
@testable import FirmwareDB

/// The shipped drives tables against their sources. Each count below was taken from the source itself at the commit
/// its table names (the '# count:' line of each file says how), so a row lost or added by hand shows here.
@Suite struct ShippedDriveTablesTests {
    let db = try! FirmwareDatabase.load(root: repoRoot + "/firmware-db")

    /// Rows per table: total, matched to a model, known but unsupported.
    @Test(arguments: [
        // Binflash: 9 INQUIRY strings in RetrieveBootcodeVersion (necinterface.cpp 789-818) + 265 IdentifyDrive branches
        // (necinternal.cpp 696-1264, one 'return TYPE;  // name' each: grep -c over those lines).
        ("binflash", 274, 37, 237),
        // redumper drive.ixx DRIVE_DATABASE: 87 '{ "VENDOR", ...' entries on lines 135-232 (the GENERIC separator excluded).
        ("redumper-drive-database", 87, 33, 54),
        // redumper flash modules: 14 MT1959 + 16 Plextor + 12 TSST products x 2 vendors + 1 Samsung.
        ("redumper-flash", 55, 51, 4),
        // qpxtool: 12 pxfw models + 14 convert_to_ID branches + 116 uncommented scan-plugin entries (115 + 1 blacklisted).
        ("qpxtool", 142, 47, 95),
        // DVRFlash: 16 SetKern generation cases + 12 SetKernKey kernel types + 14 drives named only in changelog.txt.
        ("dvrflash", 42, 8, 34),
        // btcflash.c header comment: DRW1008 (tested), DRW1004 and DRW1108 (untested).
        ("btcflash", 3, 3, 0),
        // Facts file: 3 identification rules + 17 MediaTek drives + 2 Pioneer BD drives + 20 crossflash-family groups.
        ("mediatek-pioneer-bd-facts", 42, 14, 28),
    ])
    func rowsPerSource(_ name: String, _ total: Int, _ matched: Int, _ unsupported: Int) throws {
        let t = try #require(db.driveTables.first { $0.name == name })
        #expect(t.drives.count == total)
        #expect(t.drives.filter(\.supported).count == matched)
        #expect(t.drives.filter { !$0.supported }.count == unsupported)
        #expect(t.drives.allSatisfy { $0.supported || !($0.reason ?? "").isEmpty })
    }

    /// Rows per file of the source, for the tables that gather several files.
    @Test func rowsPerSourceFile() {
        func perFile(_ table: String) -> [String: Int] {
            Dictionary(grouping: db.knownDrives.filter { $0.table == table }) { String($0.source.split(separator: ":")[0]) }.mapValues(\.count)
        }
        #expect(perFile("binflash") == ["necinterface.cpp": 9, "necinternal.cpp": 265])
        #expect(perFile("redumper-flash") == ["drive/flash_mt1959.ixx": 14, "drive/flash_plextor.ixx": 16, "drive/flash_tsst.ixx": 24, "drive/flash_sd616.ixx": 1])
        #expect(perFile("qpxtool") == ["console/pxfw/pxfw.cpp": 12, "lib/qpxtransport/qpx_mmc.cpp": 14, "plugins/asus/qscan_plugin.h": 4,
                                       "plugins/benq/qscan_plugin.h": 5, "plugins/benq_dvdrom/qscan_plugin.h": 1, "plugins/liteon/qscan_plugin.h": 67,
                                       "plugins/nec/qscan_plugin.h": 11, "plugins/pioneer/qscan_plugin.h": 18, "plugins/plextor/qscan_plugin.h": 9,
                                       "plugins/tsst/qscan_plugin.h": 1])
        #expect(perFile("dvrflash") == ["DVRFlash.cpp": 28, "changelog.txt": 14])
        // Every Binflash drive-ID row is a branch of the id table, and the other way round.
        let idRows = db.knownDrives.filter { if case .necID = $0.route { return true } else { return false } }
        #expect(idRows.count == db.idTables["nec-drive-ids"]?.entries.count)
    }

    @Test func shippedMatches() {
        #expect(db.match(vendor: "_NEC", product: "DVD_RW ND-3550A", revision: "1.05")?.id == "nec-nd-355x")
        #expect(db.match(vendor: "PLEXTOR", product: "DVDR   PX-712A", revision: "1.09")?.id == "plextor-px-712a")
        #expect(db.match(vendor: "hp", product: "DVD-ROM TS-H353C", revision: "H410")?.id == "hp-tsst-ts-h353c")
        #expect(db.match(vendor: "HL-DT-ST", product: "BD-RE  BH16NS40", revision: "1.05")?.id == "lg-bh16ns40")
        #expect(db.match(vendor: "PIONEER", product: "DVD-RW  DVR-107D", revision: "1.10")?.id == "pioneer-dvr-ata")
        // DVRFlash 2.0 has no key block for generation 9: the qpxtool row wins over the '*DVR-*' model.
        #expect(db.match(vendor: "PIONEER", product: "DVD-RW  DVR-109", revision: "1.58") == nil)
        guard case .unsupported(let rows)? = db.identify(vendor: "PLEXTOR", product: "DVDR   PX-740A", revision: "1.02") else {
            Issue.record("the PX-740A should be known but unsupported"); return
        }
        #expect(rows.first?.provenance == "superg/redumper @2ab9a423 drive.ixx:227")
        // Every model that a drives table names is a model the table's INQUIRY strings reach (lint checks it); and
        // every drive a source names with INQUIRY strings is either matched or known.
        for d in db.knownDrives where d.vendor != nil {
            let v = d.vendor!.filter { $0 != "*" && $0 != "?" }, p = d.product!.filter { $0 != "*" && $0 != "?" }
            #expect(db.identify(vendor: v, product: p, revision: "") != nil, "\(d.name) (\(d.table))")
        }
    }
}
