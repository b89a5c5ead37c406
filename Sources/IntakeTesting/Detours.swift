import IntakeEngine

extension Conversation {
    /// The events of a conversation with detours woven in, as a person who keeps going back and
    /// editing would send them: one step back, two steps back, the first answer reopened, a whole
    /// repeat instance reopened (`children[1]`, where the dialog has one), each followed by Enter
    /// (the old answer kept); now and then a step back answered with the conversation's next
    /// answer instead. Where a detour does not fit (nothing to go back to, no such instance) the
    /// engine says so, as it would to the person. For checking and timing the engine while answers
    /// stand reopened; the conversation's expectations no longer apply.
    public static func detoured(_ events: [Event]) -> [Event] {
        var out: [Event] = []
        for (k, event) in events.enumerated() {
            switch k % 9 {
            case 2: out += [.back, .answer("")]
            case 4: out += [.back, .back, .answer(""), .answer("")]
            case 6: out += [.edit("1"), .answer("")]
            case 8: out += [.edit("children[1]"), .answer(""), .back, .answer(""), .answer("")]
            default: break
            }
            if k % 13 == 10 { out += [.back, event] }
            out.append(event)
        }
        return out
    }
}
