import Testing
@testable import IntakeDialogs
import IntakeEngine

// Values computed per repeat instance (`computed:` of a group), as lint sees them: type-checked in
// their group, refused outside it without an aggregate, followed to the answers they read.

/// Children with per-child values (lines 5–19); the case's own items follow on line 20.
private let prelude = """
      - id: n
        kind: integer
      - group: kids
        count: n
        computed:
          - id: small
            expr: kid_age <= 5
          - id: stage
            expr: if(kid_age <= 5, 'small', 'big')
        items:
          - id: kid_age
            kind: integer
          - id: daycare
            kind: yesno
            when: small
    """
private let keys = ["t.n", "t.kids", "t.kid_age", "t.daycare", "t.q", "t.q2", "t.g", "t.early", "t.x"]

private func kidsDialog(_ items: String, tail: String = "") -> String {
    dialog(prelude + "\n" + items, tail: tail)
}

private let cases: [LintCase] = [
    LintCase("used inside the group and through aggregates: clean", kidsDialog("""
          - id: q
            kind: yesno
            when: count(kids, small) > 0 and any(kids, stage == 'big') and sum(kids, if(small, 1, 0)) < 3
        """, tail: """
        computed:
          - id: smalls
            expr: count(kids, small and stage == 'small')
        """), []),
    LintCase("used outside its group without an aggregate", kidsDialog("""
          - id: q
            kind: yesno
            when: n > 1 and small
        """), [
        "DIR/Dialogs/main.yaml:22:21: error: computed value 'small' is computed for each instance of the repeat group 'kids'; outside it, use count/any/all/min/max/sum(kids, …)",
    ]),
    LintCase("a dialog-wide value reading it without an aggregate", kidsDialog("""
          - id: q
            kind: yesno
        """, tail: """
        computed:
          - id: c
            expr: stage == 'big'
        """), [
        "DIR/Dialogs/main.yaml:24:11: error: computed value 'stage' is computed for each instance of the repeat group 'kids'; outside it, use count/any/all/min/max/sum(kids, …)",
    ]),
    LintCase("a type error where it is used and where it is declared", kidsDialog("""
          - id: q
            kind: yesno
            when: any(kids, stage > 3)
          - group: g
            count: n
            computed:
              - id: big
                expr: n > 1
              - id: x
                expr: big + 1
            items:
              - id: q2
                kind: yesno
        """), [
        "DIR/Dialogs/main.yaml:22:27: error: cannot compare text with integer",
        "DIR/Dialogs/main.yaml:29:19: error: cannot compare yes/no with integer",
    ]),
    LintCase("the group's own condition is outside its instances", kidsDialog("""
          - group: g
            count: n
            when: gq > 1
            computed:
              - id: gq
                expr: n + 1
            items:
              - id: q
                kind: yesno
        """), [
        "DIR/Dialogs/main.yaml:22:11: error: computed value 'gq' is computed for each instance of the repeat group 'g'; outside it, use count/any/all/min/max/sum(g, …)",
    ]),
    LintCase("another group's instances are out of reach", kidsDialog("""
          - group: g
            count: n
            computed:
              - id: x
                expr: kid_age + 1
            items:
              - id: q
                kind: yesno
                when: small
        """), [
        "DIR/Dialogs/main.yaml:24:15: error: 'kid_age' is inside the repeat group 'kids'; use count/any/all/min/max/sum(kids, …)",
        "DIR/Dialogs/main.yaml:28:15: error: computed value 'small' is computed for each instance of the repeat group 'kids'; outside it, use count/any/all/min/max/sum(kids, …)",
    ]),
    LintCase("read before the answer it reads", kidsDialog("""
          - group: g
            count: n
            computed:
              - id: late
                expr: x > 2
            items:
              - id: early
                kind: yesno
                when: late
              - id: x
                kind: integer
        """), [
        "DIR/Dialogs/main.yaml:28:15: error: the condition of 'early' refers through 'late' to 'x', which is asked later",
    ]),
    LintCase("per-instance values that read each other", kidsDialog("""
          - group: g
            count: n
            computed:
              - id: a
                expr: b + 1
              - id: b
                expr: a + 1
            items:
              - id: q
                kind: yesno
        """), [
        "DIR/Dialogs/main.yaml:24:15: error: computed value 'b' refers to itself",
        "DIR/Dialogs/main.yaml:26:15: error: computed value 'a' refers to itself",
    ]),
    LintCase("an id taken by a question", kidsDialog("""
          - group: g
            count: n
            computed:
              - id: q
                expr: n + 1
            items:
              - id: q
                kind: yesno
        """), [
        "DIR/Dialogs/main.yaml:26:13: error: id 'q' is already used at DIR/Dialogs/main.yaml:23:13",
    ]),
]

@Test(arguments: cases)
func lintInstanceComputed(_ c: LintCase) throws {
    let fixture = try Fixture(["Dialogs/main.yaml": c.file], keys: keys)
    #expect(fixture.lines() == c.expected.map(fixture.expand))
}
