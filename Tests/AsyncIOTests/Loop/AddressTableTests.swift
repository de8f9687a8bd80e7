import Testing

@testable import AsyncIO

/// The loop's running-task table (open addressing, backward-shift deletion) checked against a
/// Dictionary through random inserts, replacements and removals, with keys that crowd a few home
/// slots (multiples of 4096, like task addresses) as well as spread ones.
@Suite struct AddressTableTests {
    @Test(arguments: [1, 2, 3]) func matchesADictionaryThroughRandomChanges(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var table = AddressTable<Int>()
        var expected: [UInt: Int] = [:]
        let keys: [UInt] = (1...300).map { UInt($0) * 4096 } + (1...300).map { _ in UInt(random.next() | 1) }
        for step in 0..<20_000 {
            let key = keys.randomElement(using: &random)!
            // Phases: mostly inserting, then mostly removing (the table grows, then shrinks).
            let inserting = (step / 2_500) % 2 == 0 ? random.next() % 4 != 0 : random.next() % 4 == 0
            if inserting {
                table.insert(step, for: key)
                expected[key] = step
            } else {
                #expect(table.remove(key) == expected.removeValue(forKey: key))
            }
            #expect(table.count == expected.count)
            if step % 500 == 0 {
                for key in keys { #expect(table[key] == expected[key]) }
                #expect(table.values.sorted() == expected.values.sorted())
            }
        }
        #expect(table.removeAll().sorted() == expected.values.sorted())
        #expect(table.isEmpty && table[keys[0]] == nil)
    }
}
