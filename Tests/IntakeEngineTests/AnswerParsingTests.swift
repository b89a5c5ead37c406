import Foundation
import Testing
@testable import IntakeEngine

// MARK: - TextFolding

@Suite struct TextFoldingTests {
    @Test(arguments: [
        ("１２３", "123"), ("ＡＢＣ　ｘｙｚ", "ABC xyz"), ("１，０００", "1,000"), ("１．５", "1.5"),
        ("２０２４／４／１", "2024/4/1"), ("２０２４－０４－０１", "2024-04-01"), ("2024ー04ー01", "2024-04-01"),
        ("２０２４ー０４ー０１", "2024-04-01"), ("−5", "-5"), ("ケース", "ケース"), ("ー1", "ー1"),
        ("  a \t\n b  ", "a b"), ("\u{3000}はい\u{3000}", "はい"), ("", ""),
    ])
    func folds(input: String, expected: String) {
        #expect(TextFolding.fold(input) == expected)
    }
}

// MARK: - CivilDate

@Suite struct CivilDateTests {
    @Test func validation() {
        #expect(CivilDate(year: 2024, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 2023, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2000, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 1900, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2024, month: 4, day: 31) == nil)
        #expect(CivilDate(year: 2024, month: 13, day: 1) == nil)
        #expect(CivilDate(year: 2024, month: 0, day: 1) == nil)
        #expect(CivilDate(year: 2024, month: 1, day: 0) == nil)
        #expect(CivilDate(year: 0, month: 1, day: 1) == nil)
        #expect(CivilDate(year: 10000, month: 1, day: 1) == nil)
        #expect(CivilDate(year: 9999, month: 12, day: 31) != nil)
    }

    @Test func epoch() {
        #expect(CivilDate(daysSinceEpoch: 0).iso == "1970-01-01")
        #expect(CivilDate(year: 1970, month: 1, day: 1)?.daysSinceEpoch == 0)
        #expect(CivilDate(year: 2000, month: 3, day: 1)?.daysSinceEpoch == 11_017)
        #expect(CivilDate(daysSinceEpoch: -1).iso == "1969-12-31")
        #expect(CivilDate(daysSinceEpoch: 19_814).iso == "2024-04-01")
        #expect(CivilDate(year: 1, month: 1, day: 1)?.daysSinceEpoch == -719_162)
        #expect(CivilDate(daysSinceEpoch: Int.min).iso == "0001-01-01")
        #expect(CivilDate(daysSinceEpoch: Int.max).iso == "9999-12-31")
    }

    @Test(arguments: [-800_000, -719_162, -50_000, -1, 0, 10_000, 2_932_000])
    func daysSinceEpochRoundTrip(start: Int) {
        var previous: CivilDate? = nil
        for n in start..<(start + 3_000) {
            let date = CivilDate(daysSinceEpoch: n)
            let clamped = min(max(n, -719_162), 2_932_896)
            #expect(date.daysSinceEpoch == clamped)
            #expect(CivilDate(year: date.year, month: date.month, day: date.day) == date)
            #expect(CivilDate(iso: date.iso) == date)
            if let p = previous, clamped != p.daysSinceEpoch {
                #expect(p < date)
                #expect(p.adding(days: 1) == date)
            }
            previous = date
        }
    }

    @Test func iso() {
        #expect(CivilDate(year: 2024, month: 4, day: 1)?.iso == "2024-04-01")
        #expect(CivilDate(year: 5, month: 1, day: 9)?.description == "0005-01-09")
        #expect(CivilDate(iso: "2024-04-01") == CivilDate(year: 2024, month: 4, day: 1))
        for bad in ["2024-4-1", "2024/04/01", "20240401", "2023-02-29", "2024-04-01 ", "0000-01-01",
                    "２０２４-04-01", "2024-13-01", "abcd-ef-gh", ""] {
            #expect(CivilDate(iso: bad) == nil, "\(bad)")
        }
    }

    @Test func adding() {
        let d = CivilDate(year: 2024, month: 2, day: 28)
        #expect(d?.adding(days: 1).iso == "2024-02-29")
        #expect(d?.adding(days: 2).iso == "2024-03-01")
        #expect(d?.adding(days: -59).iso == "2023-12-31")
        #expect(d?.adding(days: 366).iso == "2025-02-28")
        #expect(d?.adding(days: Int.max).iso == "9999-12-31")
        #expect(d?.adding(days: Int.min).iso == "0001-01-01")
    }

    @Test(arguments: [
        ("2000-04-02", "2024-04-01", 23), ("2000-04-01", "2024-04-01", 24), ("2000-04-01", "2000-04-01", 0),
        ("2000-04-01", "2001-03-31", 0), ("2000-03-01", "2023-02-28", 22),
        // 29 Feb birthday: reached on 1 Mar in non-leap years, on 29 Feb in leap years.
        ("2004-02-29", "2023-02-28", 18), ("2004-02-29", "2023-03-01", 19),
        ("2004-02-29", "2024-02-28", 19), ("2004-02-29", "2024-02-29", 20),
        // Before birth: negative, symmetric.
        ("2000-05-01", "2000-04-30", 0), ("2000-05-01", "1999-05-01", -1),
    ])
    func age(birth: String, on: String, expected: Int) throws {
        let b = try #require(CivilDate(iso: birth))
        let d = try #require(CivilDate(iso: on))
        #expect(b.years(until: d) == expected)
    }

    @Test func codableRoundTrip() throws {
        let date = try #require(CivilDate(year: 2024, month: 4, day: 1))
        let data = try JSONEncoder().encode([date])
        #expect(String(decoding: data, as: UTF8.self) == "[\"2024-04-01\"]")
        #expect(try JSONDecoder().decode([CivilDate].self, from: data) == [date])
        for bad in ["[\"2023-02-29\"]", "[\"2024/04/01\"]", "[20240401]"] {
            #expect(throws: DecodingError.self) {
                try JSONDecoder().decode([CivilDate].self, from: Data(bad.utf8))
            }
        }
    }
}

// MARK: - DateParser

@Suite struct DateParserTests {
    @Test(arguments: [
        ("2024-04-01", "2024-04-01"), ("2024/4/1", "2024-04-01"), ("2024.4.1", "2024-04-01"),
        ("2024年4月1日", "2024-04-01"), ("2024年04月01日", "2024-04-01"), ("2024年4月1", "2024-04-01"),
        ("20240401", "2024-04-01"), ("２０２４／４／１", "2024-04-01"), ("２０２４年４月１日", "2024-04-01"),
        ("２０２４０４０１", "2024-04-01"), ("2024ー04ー01", "2024-04-01"), (" 2024 / 4 / 1 ", "2024-04-01"),
        ("2024-02-29", "2024-02-29"),
        ("令和6年4月1日", "2024-04-01"), ("令和元年5月1日", "2019-05-01"), ("令和1年5月1日", "2019-05-01"),
        ("平成31年4月30日", "2019-04-30"), ("平成元年1月8日", "1989-01-08"), ("昭和64年1月7日", "1989-01-07"),
        ("昭和元年12月25日", "1926-12-25"), ("大正15年12月24日", "1926-12-24"), ("大正元年7月30日", "1912-07-30"),
        ("明治45年7月29日", "1912-07-29"),
        ("R6.4.1", "2024-04-01"), ("R6/4/1", "2024-04-01"), ("R06-04-01", "2024-04-01"), ("r6.4.1", "2024-04-01"),
        ("H30.1.1", "2018-01-01"), ("h30.1.1", "2018-01-01"), ("S60.12.3", "1985-12-03"), ("s60.12.3", "1985-12-03"),
        ("T15.12.1", "1926-12-01"), ("令6.4.1", "2024-04-01"), ("平30.1.1", "2018-01-01"), ("昭60.12.3", "1985-12-03"),
        ("令和 6年 4月 1日", "2024-04-01"), ("令和６年４月１日", "2024-04-01"), ("Ｒ６．４．１", "2024-04-01"),
        ("R元.5.1", "2019-05-01"), ("令和　元年　5月　1日", "2019-05-01"),
    ])
    func accepts(input: String, expected: String) {
        #expect(DateParser.parse(input)?.iso == expected)
    }

    @Test(arguments: [
        "", " ", "abc", "13/45", "2023-02-29", "2024-04-31", "2024-13-01", "2024-00-10", "2024/4-1",
        "24/4/1", "2024/4", "2024年4月", "2024", "202404011", "2024041", "2024 4 1", "4/1/2024",
        "令和1年4月1日", "令和元年4月30日", "平成32年1月1日", "平成31年5月1日", "昭和65年1月1日",
        "昭和64年1月8日", "平成元年1月7日", "大正15年12月25日", "大正元年7月29日", "令和0年5月1日",
        "令和100年1月1日", "R6.4", "X6.4.1", "2024年4月1日日", "令和6年4月1日x", "元年5月1日", "2024-04-01-01",
        "R6.4.1.", "１３／４５", "2024/04/001",
    ])
    func rejects(input: String) {
        #expect(DateParser.parse(input) == nil)
    }

    @Test(arguments: [
        ("2019-04", 2019, 4), ("2019/4", 2019, 4), ("2019.4", 2019, 4), ("2019年4月", 2019, 4),
        ("201904", 2019, 4), ("平成31年4月", 2019, 4), ("H31.4", 2019, 4), ("h31.4", 2019, 4),
        ("令和元年5月", 2019, 5), ("R1.5", 2019, 5), ("昭和64年1月", 1989, 1), ("平成元年1月", 1989, 1),
        ("２０１９年　４月", 2019, 4), ("S60/12", 1985, 12),
    ])
    func yearMonth(input: String, year: Int, month: Int) {
        let parsed = DateParser.parseYearMonth(input)
        #expect(parsed?.year == year)
        #expect(parsed?.month == month)
    }

    @Test(arguments: [
        "", "abc", "2019-13", "2019-00", "2019-04-01", "2019年4月1日", "19/4", "令和1年4月", "平成31年5月",
        "昭和64年2月", "平成32年1月", "201913", "2019", "H31",
    ])
    func yearMonthRejects(input: String) {
        #expect(DateParser.parseYearMonth(input) == nil)
    }

    @Test(arguments: [
        ("2024-04-01", "令和6年4月1日"), ("2019-05-01", "令和元年5月1日"), ("2019-04-30", "平成31年4月30日"),
        ("1989-01-08", "平成元年1月8日"), ("1989-01-07", "昭和64年1月7日"), ("1926-12-25", "昭和元年12月25日"),
        ("1926-12-24", "大正15年12月24日"), ("1912-07-30", "大正元年7月30日"), ("1912-07-29", "明治45年7月29日"),
    ])
    func wareki(iso: String, expected: String) throws {
        let date = try #require(CivilDate(iso: iso))
        #expect(DateParser.wareki(date) == expected)
        #expect(DateParser.parse(expected) == date)
    }

    @Test func warekiBeforeMeiji() throws {
        #expect(DateParser.wareki(try #require(CivilDate(iso: "1850-01-01"))) == nil)
    }

    @Test func warekiRoundTripOverRange() throws {
        let start = try #require(CivilDate(iso: "1900-01-01")).daysSinceEpoch
        for n in stride(from: start, to: start + 60_000, by: 7) {
            let date = CivilDate(daysSinceEpoch: n)
            let text = try #require(DateParser.wareki(date))
            #expect(DateParser.parse(text) == date, "\(text)")
        }
    }
}

// MARK: - NumberParser

@Suite struct NumberParserTests {
    @Test(arguments: [
        ("3", 3), ("３", 3), (" 12 ", 12), ("1,000", 1000), ("１，０００", 1000), ("12,345,678", 12_345_678),
        ("-2", -2), ("+5", 5), ("－２", -2), ("−2", -2), ("0", 0), ("007", 7),
        ("4歳", 4), ("4才", 4), ("3人", 3), ("1,000円", 1000), ("25万円", 250_000), ("25万", 250_000),
        ("15分", 15), ("3日", 3), ("8時間", 8), ("2年", 2), ("6か月", 6), ("6ヶ月", 6), ("6ヵ月", 6),
        ("6カ月", 6), ("6ケ月", 6), ("2回", 2), ("5件", 5), ("3社", 3), ("2週", 2), ("9時", 9), ("4 歳", 4),
        ("３０歳", 30), ("2週間", 2), ("3日間", 3),
        ("〇", 0), ("三", 3), ("十", 10), ("十二", 12), ("二十", 20), ("二十五", 25), ("九十九", 99),
        ("三歳", 3), ("二十五万円", 250_000),
        ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
    ])
    func integers(input: String, expected: Int) {
        #expect(NumberParser.parseInteger(input) == expected)
    }

    @Test(arguments: [
        "", " ", "3abc", "abc", "1.5", "--3", "+-3", "-", "+", "1,00", ",100", "1,0000", "1,,000", "100,",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999", "1e5", "0x10", "nan", "inf",
        "歳", "万円", "3歳歳", "三十三十", "一〇", "二五", "十〇", "百", "3 4", "1.2.3", "1000000000000000万円",
    ])
    func integerRejects(input: String) {
        #expect(NumberParser.parseInteger(input) == nil)
    }

    @Test(arguments: [
        ("1.5", 1.5), ("１．５", 1.5), (".5", 0.5), ("0.25", 0.25), ("1,234.5", 1234.5), ("-0.5", -0.5),
        ("+2.75", 2.75), ("3", 3.0), ("1,000", 1000.0), ("1.5万円", 15_000.0), ("1.5時間", 1.5), ("二十五", 25.0),
        ("99999999999999999999", 1e20),
    ])
    func decimals(input: String, expected: Double) {
        #expect(NumberParser.parseDecimal(input) == expected)
    }

    @Test(arguments: [
        "", "1.2.3", "nan", "NaN", "inf", "infinity", "-inf", "1e5", "0x1p3", "1.", ".", "-.", "1,23.5",
        "1.5.", "abc", "1.5abc", "1 .5",
    ])
    func decimalRejects(input: String) {
        #expect(NumberParser.parseDecimal(input) == nil)
    }
}

// MARK: - YesNoParser

@Suite struct YesNoParserTests {
    @Test(arguments: [
        ("はい", true), ("ハイ", true), ("ﾊｲ", true), ("yes", true), ("YES", true), ("Yes", true), ("ｙｅｓ", true),
        ("y", true), ("Y", true), ("ok", true), ("OK", true), ("true", true), ("1", true), ("１", true),
        ("1.", true), ("1. はい", true), ("1.はい", true), ("○", true), ("◯", true), ("うん", true),
        ("ある", true), ("あり", true), ("します", true), ("はい。", true), (" はい ", true), ("ええ", true),
        ("いいえ", false), ("イイエ", false), ("no", false), ("NO", false), ("n", false), ("N", false),
        ("false", false), ("2", false), ("２", false), ("2. いいえ", false), ("×", false), ("ううん", false),
        ("ない", false), ("なし", false), ("しません", false), ("いいえ。", false), ("x", false), ("ありません", false),
    ])
    func parses(input: String, expected: Bool) {
        #expect(YesNoParser.parse(input) == expected)
    }

    @Test(arguments: [
        "", " ", "abc", "3", "0", "12", "1. いいえ", "2. はい", "yesno", "はいいいえ", "maybe", "たぶん", "11",
    ])
    func rejects(input: String) {
        #expect(YesNoParser.parse(input) == nil)
    }
}

// MARK: - As people type them (issue 17)

@Suite struct TypedFormsTests {
    @Test func countersInHiragana() {
        #expect(NumberParser.parseInteger("4さい") == 4)
        #expect(NumberParser.parseInteger("２にん") == 2)
        #expect(NumberParser.parseInteger("3まんえん") == 30_000)
        #expect(NumberParser.parseInteger("15ふん") == 15)
        #expect(NumberParser.parseInteger("2しゅうかん") == 2)
        #expect(NumberParser.parseInteger("さい") == nil)
        #expect(NumberParser.parseInteger("4さいさい") == nil)
    }

    @Test func aDayItsMonthDoesNotHave() {
        #expect(DateParser.impossibleDay("2026年2月30日").map { [$0.month, $0.day] } == [2, 30])
        #expect(DateParser.impossibleDay("2023-02-29").map { [$0.month, $0.day] } == [2, 29])
        #expect(DateParser.impossibleDay("2024-02-29") == nil, "a leap year has it")
        #expect(DateParser.impossibleDay("2026年13月1日") == nil, "no such month: unreadable, not a missing day")
        #expect(DateParser.impossibleDay("2026年4月32日") == nil)
        #expect(DateParser.impossibleDay("きのう") == nil)
    }

    @Test func warekiInHiragana() {
        #expect(DateParser.parse("へいせい 2ねん 4がつ 1にち")?.iso == "1990-04-01")
        #expect(DateParser.parse("しょうわ 60ねん 12がつ 3にち")?.iso == "1985-12-03")
        #expect(DateParser.parseYearMonth("へいせい 31ねん 4がつ").map { [$0.year, $0.month] } == [2019, 4])
        #expect(DateParser.parse("れいわ 1ねん 4がつ 1にち") == nil, "before 令和 began")
    }

    @Test func phoneNumbersAndAddressesInHalfWidth() {
        for (typed, stored) in [("090-1234-5678", "090-1234-5678"), ("０９０ー１２３４ー５６７８", "090-1234-5678"),
                                ("０９０－１２３４－５６７８", "090-1234-5678"), ("09012345678", "09012345678"),
                                ("049 (123) 4567", "049 (123) 4567"), ("０４９２２２１１１１", "0492221111")] {
            #expect(TextFormat.phone.normalize(typed) == stored, "\(typed)")
        }
        for bad in ["090-1234", "1234567890", "090-1234-56789", "電話なし", "090-1234-5678 内線2", "+81 90 1234 5678"] {
            #expect(TextFormat.phone.normalize(bad) == nil, "\(bad)")
        }
        for (typed, stored) in [("hanako@example.jp", "hanako@example.jp"), ("ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ", "hanako@example.jp"),
                                ("a.b+c@mail.example.co.jp", "a.b+c@mail.example.co.jp")] {
            #expect(TextFormat.email.normalize(typed) == stored, "\(typed)")
        }
        for bad in ["hanako.example.jp", "@example.jp", "hanako@", "hanako@example", "a@b@example.jp", "hanako @example.jp",
                    "hanako@example..jp", "はなこ@example.jp"] {
            #expect(TextFormat.email.normalize(bad) == nil, "\(bad)")
        }
    }

    @Test func aYearIn和暦() {
        #expect(DateParser.parseEraYear("平成30年") == 2018)
        #expect(DateParser.parseEraYear("H30") == 2018)
        #expect(DateParser.parseEraYear("令和元年") == 2019)
        #expect(DateParser.parseEraYear("れいわ がんねん") == 2019)
        #expect(DateParser.parseEraYear("へいせい 27ねん") == 2015)
        #expect(DateParser.parseEraYear("昭和64年") == 1989, "a week of 1989 was 昭和")
        #expect(DateParser.parseEraYear("平成32年") == nil)
        #expect(DateParser.parseEraYear("平成30年4月") == nil, "a month is not a year")
        #expect(DateParser.parseEraYear("2018") == nil)
    }
}

/// Times of day as people type them (issue 17): whole hours stay integers, minutes make a fraction.
@Suite struct TimeParsingTests {
    @Test(arguments: [
        ("9", 9, 0), ("９", 9, 0), ("9時", 9, 0), ("9じ", 9, 0), ("8時半", 8, 30), ("8じはん", 8, 30), ("8:30", 8, 30),
        ("８：３０", 8, 30), ("17時30分", 17, 30), ("17時5分", 17, 5), ("午後5時", 17, 0), ("ごご5じはん", 17, 30), ("5pm", 17, 0),
        ("午前12時", 0, 0), ("午後12時", 12, 0), ("8.5", 8, 30), ("8.25", 8, 15), ("0", 0, 0), ("24", 24, 0), ("24:00", 24, 0), (" 8 : 30 ", 8, 30),
    ])
    func accepts(_ text: String, _ hour: Int, _ minute: Int) {
        #expect(TimeParser.parse(text) == TimeParser.Time(hour: hour, minute: minute), "\(text)")
    }

    @Test(arguments: ["", "25", "24:30", "8:60", "8:5x", "午後13時", "8時半分", "8.333", "abc", "8時間", "-1", "8::30", "午後"])
    func refuses(_ text: String) {
        #expect(TimeParser.parse(text) == nil, "\(text)")
    }

    @Test func theValueIsHoursAndIsShownAsAClock() {
        #expect(TimeParser.Time(hour: 9, minute: 0).value == .int(9))
        #expect(TimeParser.Time(hour: 8, minute: 30).value == .decimal(8.5))
        #expect(TimeParser.display(.decimal(8.5)) == "8:30")
        #expect(TimeParser.display(.int(17)) == "17:00")
        #expect(TimeParser.time(hours: 8.01) == nil, "8.01 hours is not a whole minute")
        #expect(TimeParser.time(hours: 8.3) == TimeParser.Time(hour: 8, minute: 18))
        #expect(TimeParser.time(hours: 25) == nil)
    }
}
