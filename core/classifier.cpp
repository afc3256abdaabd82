// SPDX-License-Identifier: MIT
#include "classifier.h"

#include "bounce.h"
#include "prefilter.h"
#include "private/lowering.h"
#include "replymodel.h"
#include "replyparser.h"
#include "text.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <tuple>
#include <unordered_map>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace bt
{
namespace
{

RE2::Options patternOptions(bool latin1 = false, bool caseSensitive = false)
{
    RE2::Options o;
    if (latin1)
        o.set_encoding(RE2::Options::EncodingLatin1);
    o.set_case_sensitive(caseSensitive);
    o.set_log_errors(false);
    // Rule sets grow with every provider's wording; give the DFA room so Match never bails out.
    o.set_max_mem(int64_t {256} << 20);
    return o;
}

} // namespace

namespace detail
{

/// A letter in lower case as RE2's case folding pairs it, for the letters the phrases use:
/// text::foldLetter (ASCII, Latin-1, Latin Extended-A, basic Cyrillic), but İ left alone as RE2
/// leaves it (Unicode gives it no simple folding), and Ÿ and Romanian's Ș and Ț lowered too. Each
/// pair is two bytes in UTF-8 on both sides, so a text keeps its length.
char32_t lowerLetter(char32_t c)
{
    if (c == 0x130)
        return c; // İ
    if (c == 0x178)
        return 0xFF; // Ÿ
    if (c >= 0x218 && c <= 0x21B)
        return c % 2 == 0 ? c + 1 : c; // Ș Ț
    return text::foldLetter(c);
}

/// s with its letters through lowerLetter, the same length: ASCII and two-byte UTF-8 sequences;
/// anything else (other scripts, invalid bytes) as it is.
void appendLowered(std::string& out, std::string_view s)
{
    const auto at = out.size();
    out.resize(at + s.size());
    auto* o = reinterpret_cast<unsigned char*>(out.data() + at);
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        // Eight ASCII bytes at a time (most of a reply): a byte in 'A'..'Z' gets 0x20 added, found
        // by two additions whose high bits say ">= 'A'" and "> 'Z'" (no byte reaches 0x80).
        if (i + 8 <= n) {
            std::uint64_t w;
            std::memcpy(&w, p + i, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                const std::uint64_t upper
                    = (w + 0x3F3F3F3F3F3F3F3Full) & ~(w + 0x2525252525252525ull) & 0x8080808080808080ull;
                w |= upper >> 2;
                std::memcpy(o + i, &w, 8);
                i += 8;
                continue;
            }
        }
        const auto b = p[i];
        if (b < 0x80) {
            o[i] = b >= 'A' && b <= 'Z' ? static_cast<unsigned char>(b + 32) : b;
            ++i;
        } else if (b >= 0xC2 && b <= 0xDF && i + 1 < n && (p[i + 1] & 0xC0) == 0x80) {
            const char32_t c = lowerLetter(((b & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu));
            o[i] = static_cast<unsigned char>(0xC0 | (c >> 6));
            o[i + 1] = static_cast<unsigned char>(0x80 | (c & 0x3F));
            i += 2;
        } else {
            o[i] = b;
            ++i;
        }
    }
}

/// Whether loweredPattern keeps p's meaning over lowered text: not where case is named (a
/// class of capitals, "\p{Lu}") or may be set by a group's flags ("(?-i:…)", "(?U)",
/// "(?P<name>…)"). No shipped pattern is such; a rules file's may be.
bool lowerable(std::string_view p)
{
    if (p.find("[:upper:]") != std::string_view::npos || p.find("[:lower:]") != std::string_view::npos)
        return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\' && i + 1 < p.size()) {
            if (p[++i] == 'p' || p[i] == 'P')
                return false;
        } else if (p[i] == '(' && i + 1 < p.size() && p[i + 1] == '?') {
            // "(?:", "(?m:$)", "(?s)" say nothing about case; "(?i", "(?-i", "(?U", "(?P<" may.
            auto j = i + 2;
            while (j < p.size() && (p[j] == 'm' || p[j] == 's' || p[j] == '-'))
                ++j;
            if (j >= p.size() || (p[j] != ':' && p[j] != ')'))
                return false;
        }
    }
    return true;
}

/// A case-insensitive pattern as a case-sensitive one over lowered text (appendLowered): its
/// letters lowered, escapes ("\S", "\W", "\B") as they are (lowerable says where that holds).
/// RE2 compiles a case-sensitive set in two thirds of the instructions (the Latin-script phrases
/// 1.0 → 0.65 billion, every command's start-up 736 → 560 million) and matches it with a DFA of
/// fewer byte classes.
std::string loweredPattern(std::string_view p)
{
    std::string out;
    out.reserve(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\' && i + 1 < p.size()) {
            // The escape's letter as written ("\S" is not "\s"); lowerable keeps "\p{…}" out, and
            // the hex digits of "\x{…}" mean the same in either case.
            out.push_back(p[i]);
            out.push_back(p[++i]);
            continue;
        }
        // A letter whole: one byte, or the two of a Latin or Cyrillic letter.
        const auto b = static_cast<unsigned char>(p[i]);
        const std::size_t len = b >= 0xC2 && b <= 0xDF && i + 1 < p.size() ? 2 : 1;
        appendLowered(out, p.substr(i, len));
        i += len - 1;
    }
    return out;
}

} // namespace detail

namespace
{

using detail::appendLowered;
using detail::lowerable;
using detail::loweredPattern;

/// The patterns of rules, blocklists and providers, matched over a reply in a few RE2::Set
/// passes, with each pattern also kept alone so the span of a hit can be found afterwards.
///
/// Why several sets: RE2 builds one DFA per set, and the lexicons' phrases (a cause word a few
/// words after its subject, in twelve languages) multiply the states of a DFA they share with
/// the curated rules: one set of everything ran at a third of the speed of the same patterns in
/// three sets (tests/bench/bench_diagnose). The other languages' words are in a set per
/// language, in groups by script. A group is read only when the reply could be in one of its
/// languages: the Latin-script groups when the reply holds a letter beyond ASCII ("ü", "ł"), one
/// of their ASCII marker words ("benutzer", "inconnu", …), or nothing the English words explain
/// while it does not look English and holds no other script; the Cyrillic group when it holds a
/// Cyrillic letter, the CJK group when it holds a CJK or kana or Hangul character. Within a
/// group, a language's set is compiled and run only when the reply holds what one of its
/// phrases needs (prefilter::requirementOf: "unbekannt" and "benutzer" for "benutzer\S*
/// (?:\S+ ){0,4}unbekannt"), so the hits are those of every set run in full. Before, the
/// Latin-script phrases (~1 800) were two sets compiled together when a reply first reached them
/// and run over every such reply: 1.1 of the 3.6 billion instructions of `parse --jobs 1` over
/// the corpus ×6 (which needs no other language's phrase), 11.5 billion for 20 000 development
/// replies where the sets per language take 6.7. One set of all the other languages' phrases
/// had cost `diagnose --lines` a third more CPU time still (its DFA builds states for all of
/// them).
class PatternSet
{
    struct Part;

public:
    /// What a pattern belongs to: a rule, a blocklist or a provider, by index in its table.
    enum class Kind { Rule, Blocklist, Provider };
    struct Owner {
        Kind kind;
        std::size_t index;
    };
    /// Which pass a pattern is matched in. Every set but AsIs is matched case-sensitive over the
    /// reply lowered (loweredPattern); AsIs holds the patterns lowering would change and is
    /// matched over the reply as it is, case-insensitive, with the curated set (empty unless a
    /// rules file brings one). OtherLatin holds the Romance languages, Turkish and Indonesian,
    /// OtherLatinB the other Latin-script ones; the two run together (see above).
    enum Group {
        Curated = 0,
        AsIs = 1,
        English = 2,
        OtherLatin = 3,
        OtherLatinB = 4,
        Cyrillic = 5,
        Cjk = 6,
        kGroups = 7
    };
    static constexpr int kFirstOther = OtherLatin; ///< the groups from here on are compiled lazily

    /// The group of a lexicon in `language` (ISO 639-1) other than English.
    static Group groupOfLanguage(std::string_view language)
    {
        for (const std::string_view cyrillic : {"ru", "uk", "bg", "sr", "mk", "be", "kk"})
            if (language == cyrillic)
                return Cyrillic;
        for (const std::string_view cjk : {"zh", "ja", "ko"})
            if (language == cjk)
                return Cjk;
        for (const std::string_view romance : {"fr", "es", "it", "pt", "ca", "ro", "gl", "oc", "tr", "id", "ms"})
            if (language == romance)
                return OtherLatin;
        return OtherLatinB;
    }

    PatternSet()
    {
        for (int gi = 0; gi < kFirstOther; ++gi)
            // Every set but AsIs matches the lowered reply with lowered patterns (loweredPattern);
            // the other languages' sets are made per language (Part) when first needed.
            m_groups[gi].set = std::make_unique<RE2::Set>(patternOptions(gi == English, gi != AsIs), RE2::UNANCHORED);
        m_markers = std::make_unique<RE2::Set>(patternOptions(), RE2::UNANCHORED);
    }

    ~PatternSet()
    {
        for (auto& slot : m_single)
            delete slot.load();
    }
    PatternSet(const PatternSet&) = delete;
    PatternSet& operator=(const PatternSet&) = delete;

    /// Adds a pattern owned by `owner`, from `where` (`shipped`: built into the program). It is
    /// parsed in compile(), which reports the first invalid one in add() order with RE2's message
    /// (the other languages' shipped patterns only when a reply first needs their set).
    void add(const std::string& pattern, Owner owner, const std::string& where, Group group = Curated,
             bool shipped = false, std::string_view language = {})
    {
        // The English lexicon's set is compiled as Latin-1: its gap phrases (".{0,40}", "[^.]{0,30}")
        // then take one instruction a byte instead of a UTF-8 decoder each, which made its compile
        // 27 → 20 ms and a cold pass over new replies cheaper (callgrind, `diagnose --brief --lines`
        // over 20 000 development replies: 9.25 → 8.98 G instructions; the output of 7 599 replies
        // and of the corpus unchanged). On ASCII patterns the two encodings match the same bytes, but
        // for a gap's length counted in bytes, not characters, where the gap holds non-ASCII text.
        // A pattern with a byte beyond ASCII would have its character classes split UTF-8
        // sequences, so such a phrase joins the curated set (UTF-8).
        if (group == English && !isAscii(pattern))
            group = Curated;
        if (!lowerable(pattern))
            group = AsIs;
        auto& g = m_groups[group];
        m_latin1.push_back(group == English);
        g.global.push_back(static_cast<int>(m_owners.size()));
        m_owners.push_back(owner);
        m_patterns.push_back(pattern);
        m_wheres.push_back(where);
        m_shipped.push_back(shipped);
        m_single.emplace_back(nullptr);
        m_literals.push_back(literalOf(pattern));
        m_languageOf.emplace_back(group >= kFirstOther ? language : std::string_view {});
    }

    /// A word whose presence (any case) makes the other languages' pass run on ASCII text.
    void addMarker(const std::string& word) { m_markerWords.push_back(word); }
    /// English function words, lower case and sorted (KnowledgeBase::englishMarkers).
    void setEnglishMarkers(std::vector<std::string> words) { m_englishMarkers = std::move(words); }

    /// Parses every pattern into its group's set and compiles the sets. Each group is parsed and
    /// compiled on a thread of its own: this was nearly all of the start-up every command pays
    /// (0.08 s of CPU for ~3 000 patterns), on one core while the other waited. The sets share
    /// nothing, and the errors are the ones adding and compiling them in turn would raise.
    void compile()
    {
        struct Outcome {
            std::size_t invalidAt = std::numeric_limits<std::size_t>::max(); ///< first invalid pattern
            std::string invalid; ///< its message
            bool outOfMemory = false;
        };
        std::array<Outcome, kGroups> outcomes;
        bool markersFailed = false;
        auto build = [&](int gi) {
            auto& g = m_groups[gi];
            auto& out = outcomes[gi];
            if (gi >= kFirstOther) {
                // Parsed into the set and compiled when a reply first needs it (see match()): an
                // input in English never does. Compiling it at load was 312 million instructions
                // of every command's start-up, parsing it 107 million more (start-up is 555
                // million now, callgrind, one English line). The patterns a user's rules file
                // brings are parsed now, so a bad one is named at load; the shipped lexicon's are
                // parsed by the tests that replay its examples.
                for (const int index : g.global) {
                    const auto i = static_cast<std::size_t>(index);
                    if (m_shipped[i])
                        continue;
                    const RE2 probe(m_patterns[i], patternOptions());
                    if (!probe.ok()) {
                        out.invalidAt = i;
                        out.invalid = m_wheres[i] + ": invalid pattern \"" + m_patterns[i] + "\": " + probe.error();
                        return;
                    }
                }
                g.compiled = !g.global.empty();
                return;
            }
            for (const int index : g.global) {
                const auto& pattern = m_patterns[static_cast<std::size_t>(index)];
                std::string error;
                if (g.set->Add(gi == AsIs ? pattern : loweredPattern(pattern), &error) < 0) {
                    out.invalidAt = static_cast<std::size_t>(index);
                    out.invalid = m_wheres[out.invalidAt] + ": invalid pattern \"" + pattern + "\": " + error;
                    return;
                }
            }
            out.outOfMemory = !g.global.empty() && !g.set->Compile();
            g.compiled = !g.global.empty() && !out.outOfMemory;
        };
        auto buildMarkers = [&] {
            for (const auto& word : m_markerWords)
                if (m_markers->Add("\\b" + RE2::QuoteMeta(word), nullptr) >= 0)
                    m_hasMarkers = true;
            markersFailed = m_hasMarkers && !m_markers->Compile();
        };
        {
            std::vector<std::jthread> threads;
            for (int gi = 1; gi < kGroups; ++gi)
                threads.emplace_back(build, gi);
            build(0);
            buildMarkers();
        } // joined
        const auto first = std::min_element(outcomes.begin(), outcomes.end(), [](const Outcome& a, const Outcome& b) {
            return a.invalidAt < b.invalidAt;
        });
        if (!first->invalid.empty())
            throw KnowledgeError(first->invalid);
        for (const auto& out : outcomes)
            if (out.outOfMemory)
                throw KnowledgeError("rule patterns could not be compiled together (RE2::Set out of memory)");
        if (markersFailed)
            throw KnowledgeError("lexicon marker words could not be compiled");
        // The other languages' phrases: a set per language (see match()).
        for (int gi = kFirstOther; gi < kGroups; ++gi)
            for (const int index : m_groups[gi].global) {
                const auto& language = m_languageOf[static_cast<std::size_t>(index)];
                auto part = std::find_if(m_parts.begin(), m_parts.end(),
                                         [&](const Part& p) { return p.group == gi && p.language == language; });
                if (part == m_parts.end()) {
                    auto& fresh = m_parts.emplace_back();
                    fresh.group = gi;
                    fresh.language = language;
                    fresh.global.push_back(index);
                    continue;
                }
                part->global.push_back(index);
            }
        m_wheres = {};
        m_shipped = {};
        m_markerWords = {};
        m_languageOf = {};
    }

    /// Indices (into add() order) of every pattern of the groups [first, last) that occurs in
    /// s, appended to hits (each group's in the order its set gives them: sort when done);
    /// `lowered` is s through appendLowered, which all sets but AsIs read.
    /// The other languages' groups run when the reply may be in one of them; the Latin-script
    /// ones also when `force` (a reply the English words leave unexplained) and the reply is not
    /// in another script: accent-less German or Polish is written in Latin letters, and a Russian
    /// or Japanese reply the English words leave weak compiled the Latin-script set (120 ms, a
    /// billion instructions) only to find nothing in it.
    void match(std::string_view s, std::string_view lowered, std::vector<int>& hits, int first = 0, int last = kGroups,
               bool force = false) const
    {
        thread_local std::vector<int> local;
        // Both Latin-script sets or neither, decided once for the reply.
        std::optional<bool> latin;
        const auto latinScript = [&] {
            if (!latin)
                latin = (force && !looksEnglish(s) && !hasCyrillic(s) && !hasCjk(s)) || mayBeOtherLanguage(s);
            return *latin;
        };
        const re2::StringPiece text(s.data(), s.size());
        std::array<bool, kGroups> wanted {};
        bool anyLanguage = false;
        for (int gi = first; gi < last; ++gi) {
            const auto& g = m_groups[gi];
            if (!g.compiled)
                continue;
            if ((gi == OtherLatin || gi == OtherLatinB) && !latinScript())
                continue;
            if ((gi == Cyrillic && !hasCyrillic(s)) || (gi == Cjk && !hasCjk(s)))
                continue;
            if (gi >= kFirstOther) {
                wanted[static_cast<std::size_t>(gi)] = anyLanguage = true;
                continue;
            }
            local.clear();
            g.set->Match(gi == AsIs ? text : re2::StringPiece(lowered.data(), lowered.size()), &local);
            for (int l : local)
                hits.push_back(g.global[static_cast<std::size_t>(l)]);
        }
        if (anyLanguage)
            matchLanguages(lowered, wanted, hits);
    }

    const Owner& owner(int index) const { return m_owners[static_cast<std::size_t>(index)]; }

    /// The other languages' phrases of the wanted groups, over the lowered reply: each language's
    /// set only when the reply holds what one of its phrases needs (prefilter::requirementOf), so
    /// a reply that cannot match a language's phrases neither compiles nor runs its set. The
    /// same hits as every wanted set run in full: a phrase whose requirement fails cannot match.
    void matchLanguages(std::string_view lowered, const std::array<bool, kGroups>& wanted, std::vector<int>& hits) const
    {
        thread_local std::vector<int> local;
        thread_local std::vector<char> present;
        thread_local std::vector<Part*> open;
        open.clear();
        for (int script = 0; script < kScripts; ++script) {
            bool any = false;
            for (int gi = kFirstOther; gi < kGroups; ++gi)
                any = any || (scriptOf(gi) == script && wanted[static_cast<std::size_t>(gi)]);
            if (!any)
                continue;
            const auto& gates = this->gates(script);
            present.assign(gates.atoms.size(), 0);
            // Every atom in the reply, found by its first three bytes (every atom has three or more).
            for (std::size_t i = 0; i + 3 <= lowered.size(); ++i) {
                const auto found = gates.byPrefix.find(prefixOf(lowered.data() + i));
                if (found == gates.byPrefix.end())
                    continue;
                for (const int a : found->second) {
                    const auto& atom = gates.atoms[static_cast<std::size_t>(a)];
                    if (lowered.compare(i, atom.size(), atom) == 0)
                        present[static_cast<std::size_t>(a)] = 1;
                }
            }
            for (auto& part : m_parts)
                if (scriptOf(part.group) == script && wanted[static_cast<std::size_t>(part.group)]
                    && opens(part, present))
                    open.push_back(&part);
        }
        const re2::StringPiece text(lowered.data(), lowered.size());
        {
            // The first reply that needs several new languages waits for the slowest, not for all
            // in turn: each is compiled on a thread of its own.
            std::vector<std::jthread> beside;
            Part* here = nullptr;
            for (auto* part : open) {
                if (part->ready.load(std::memory_order_acquire))
                    continue;
                if (!here)
                    here = part;
                else
                    beside.emplace_back([this, part] { compiledPart(*part); });
            }
            if (here)
                compiledPart(*here);
        } // joined
        for (auto* part : open) {
            if (!compiledPart(*part))
                continue; // out of RE2's memory: this language's words are not read
            local.clear();
            part->set->Match(text, &local);
            for (int l : local)
                hits.push_back(part->global[static_cast<std::size_t>(l)]);
        }
    }

    /// A language's phrases, parsed and compiled by the first thread that needs them; the others
    /// wait for it here. False when they cannot be used: a shipped pattern RE2 refuses (the tests
    /// say none) or RE2 out of memory.
    bool compiledPart(Part& part) const
    {
        std::call_once(part.once, [&] {
            part.set = std::make_unique<RE2::Set>(patternOptions(false, true), RE2::UNANCHORED);
            bool added = true;
            for (const int index : part.global)
                added
                    = added && part.set->Add(loweredPattern(m_patterns[static_cast<std::size_t>(index)]), nullptr) >= 0;
            part.usable = added && part.set->Compile();
            part.ready.store(true, std::memory_order_release);
        });
        return part.usable;
    }

    /// Whether a reply whose lowered text holds the atoms marked in `present` may match one of
    /// the part's phrases.
    static bool opens(const Part& part, const std::vector<char>& present)
    {
        if (part.always)
            return true;
        for (const auto& needs : part.needs) {
            bool all = true;
            for (const auto& any : needs) {
                bool one = false;
                for (const int a : any)
                    if (present[static_cast<std::size_t>(a)]) {
                        one = true;
                        break;
                    }
                if (!one) {
                    all = false;
                    break;
                }
            }
            if (all)
                return true;
        }
        return false;
    }

    /// Every atom the other languages' phrases need, indexed by its first three bytes, and each
    /// part's phrases' needs as atom numbers: made when a reply first reaches those phrases, never
    /// for an input in English. (An RE2::Set of the ~6 000 atoms took 500 million instructions to
    /// compile, as much as the phrases it would spare.)
    struct Gates {
        std::once_flag once;
        std::vector<std::string> atoms;
        std::unordered_map<std::uint32_t, std::vector<int>> byPrefix;
    };
    static std::uint32_t prefixOf(const char* p)
    {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(p[0]))
            | static_cast<std::uint32_t>(static_cast<unsigned char>(p[1])) << 8
            | static_cast<std::uint32_t>(static_cast<unsigned char>(p[2])) << 16;
    }
    /// The gates of one script's parts (the Latin-script groups, Cyrillic, CJK): a Russian reply
    /// reads no Latin-script phrase's requirement.
    static constexpr int kScripts = 3;
    static int scriptOf(int group) { return group == Cyrillic ? 1 : group == Cjk ? 2 : 0; }
    const Gates& gates(int script) const
    {
        auto& gates = m_gates[static_cast<std::size_t>(script)];
        std::call_once(gates.once, [&] {
            std::unordered_map<std::string, int> ids;
            auto& atoms = gates.atoms;
            for (auto& part : m_parts) {
                if (scriptOf(part.group) != script)
                    continue;
                for (const int index : part.global) {
                    const auto r
                        = prefilter::requirementOf(loweredPattern(m_patterns[static_cast<std::size_t>(index)]));
                    if (r.empty()) {
                        part.always = true;
                        break;
                    }
                    auto& needs = part.needs.emplace_back();
                    for (const auto& any : r.all) {
                        auto& list = needs.emplace_back();
                        for (const auto& atom : any) {
                            const auto [at, fresh] = ids.try_emplace(atom, static_cast<int>(atoms.size()));
                            if (fresh)
                                atoms.push_back(atom);
                            list.push_back(at->second);
                        }
                    }
                }
            }
            for (std::size_t a = 0; a < atoms.size(); ++a)
                gates.byPrefix[prefixOf(atoms[a].data())].push_back(static_cast<int>(a));
        });
        return gates;
    }

    /// Byte span of pattern `index` in s.
    bool span(int index, std::string_view s, std::size_t& start, std::size_t& end) const
    {
        // Most patterns are a phrase between word boundaries: found by a plain search, a
        // span costs a tenth of RE2's forward-and-reverse run. Only on ASCII text, where RE2's
        // case folding is plain ASCII folding too (it folds 'k' with the Kelvin sign).
        const auto& lit = m_literals[static_cast<std::size_t>(index)];
        if (!lit.text.empty() && isAscii(s)) {
            for (auto at = text::findNoCase(s, lit.text); at != std::string_view::npos;
                 at = text::findNoCase(s, lit.text, at + 1)) {
                if ((!lit.boundaryBefore || wordBoundary(s, at))
                    && (!lit.boundaryAfter || wordBoundary(s, at + lit.text.size()))) {
                    start = at;
                    end = at + lit.text.size();
                    return true;
                }
            }
            return false;
        }
        re2::StringPiece m;
        if (!single(index).Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::UNANCHORED, &m, 1))
            return false;
        start = static_cast<std::size_t>(m.data() - s.data());
        end = start + m.size();
        return true;
    }

private:
    /// A pattern that is a literal phrase, optionally between \\b: its text and boundaries.
    struct Literal {
        std::string text; ///< empty when the pattern is not a plain literal
        bool boundaryBefore = false;
        bool boundaryAfter = false;
    };

    static Literal literalOf(std::string_view p)
    {
        Literal lit;
        if (p.substr(0, 2) == "\\b") {
            lit.boundaryBefore = true;
            p.remove_prefix(2);
        }
        if (p.size() >= 2 && p.substr(p.size() - 2) == "\\b" && (p.size() < 3 || p[p.size() - 3] != '\\')) {
            lit.boundaryAfter = true;
            p.remove_suffix(2);
        }
        std::string out;
        for (std::size_t i = 0; i < p.size(); ++i) {
            const auto c = static_cast<unsigned char>(p[i]);
            if (c >= 0x80 || c < 0x20)
                return {};
            if (c == '\\') {
                // An escaped punctuation mark stands for itself; \\b, \\s, \\d… do not.
                if (i + 1 >= p.size() || text::isAlpha(p[i + 1]) || (p[i + 1] >= '0' && p[i + 1] <= '9'))
                    return {};
                out += p[++i];
                continue;
            }
            if (std::string_view("[](){}.*+?|^$").find(static_cast<char>(c)) != std::string_view::npos)
                return {};
            out += static_cast<char>(c);
        }
        lit.text = std::move(out);
        return lit;
    }

    static bool isWord(char c) { return text::isAlpha(c) || (c >= '0' && c <= '9') || c == '_'; }

    /// RE2's \\b: a word character on exactly one side.
    static bool wordBoundary(std::string_view s, std::size_t at)
    {
        const bool before = at > 0 && isWord(s[at - 1]);
        const bool after = at < s.size() && isWord(s[at]);
        return before != after;
    }

    static bool isAscii(std::string_view s)
    {
        for (const char c : s)
            if (static_cast<unsigned char>(c) >= 0x80)
                return false;
        return true;
    }

    /// Pattern `index` on its own, compiled the first time a span needs it: most never do (their
    /// span is found as a literal), and compiling all 3 000 up front was a third of start-up.
    const RE2& single(int index) const
    {
        auto& slot = m_single[static_cast<std::size_t>(index)];
        RE2* re = slot.load(std::memory_order_acquire);
        if (!re) {
            auto fresh = std::make_unique<RE2>(m_patterns[static_cast<std::size_t>(index)],
                                               patternOptions(m_latin1[static_cast<std::size_t>(index)]));
            // Two threads may compile it at once: the first one stored is kept.
            if (slot.compare_exchange_strong(re, fresh.get(), std::memory_order_acq_rel))
                re = fresh.release();
        }
        return *re;
    }

    /// A letter of a Latin-script language beyond ASCII (U+00C0-U+027F: UTF-8 lead bytes
    /// 0xC3-0xC9: "ü", "é", "ł", "ș"), or one of the lexicons' ASCII marker words. Other non-ASCII
    /// bytes (a typographic quote in English, Cyrillic, CJK) do not make the Latin-script words
    /// worth reading: the same families on every labelled reply, and a Chinese reply's first
    /// diagnosis no longer compiles the Latin-script set too.
    bool mayBeOtherLanguage(std::string_view s) const
    {
        for (const char c : s)
            if (const auto b = static_cast<unsigned char>(c); b >= 0xC3 && b <= 0xC9)
                return true;
        return m_hasMarkers && m_markers->Match(re2::StringPiece(s.data(), s.size()), nullptr);
    }

    /// Two different English function words: an ASCII reply the English words leave unexplained
    /// is then vague English, not another language's words without their accents ("Benutzer
    /// unbekannt", "System jest przeciazony"). Reading the Latin-script lexicons for every vague
    /// English reply was a fifth of `diagnose --lines`' CPU time on the development replies.
    bool looksEnglish(std::string_view s) const
    {
        if (m_englishMarkers.empty())
            return false;
        auto first = m_englishMarkers.end();
        std::string word;
        for (std::size_t i = 0; i < s.size();) {
            if (!text::isAlpha(s[i])) {
                ++i;
                continue;
            }
            word.clear();
            for (; i < s.size() && (text::isAlpha(s[i]) || s[i] == '\''); ++i)
                word += static_cast<char>(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
            const auto at = std::lower_bound(m_englishMarkers.begin(), m_englishMarkers.end(), word);
            if (at == m_englishMarkers.end() || *at != word)
                continue;
            if (first == m_englishMarkers.end())
                first = at;
            else if (at != first)
                return true;
        }
        return false;
    }

    /// A Cyrillic letter (U+0400-U+052F: UTF-8 lead bytes 0xD0-0xD4).
    static bool hasCyrillic(std::string_view s)
    {
        for (const char c : s)
            if (const auto b = static_cast<unsigned char>(c); b >= 0xD0 && b <= 0xD4)
                return true;
        return false;
    }

    /// A CJK, kana or Hangul character or a fullwidth form (U+3000-U+D7FF: lead bytes 0xE3-0xED;
    /// U+FF00-U+FFEF: 0xEF 0xBC-0xBF).
    static bool hasCjk(std::string_view s)
    {
        for (std::size_t i = 0; i < s.size(); ++i) {
            const auto b = static_cast<unsigned char>(s[i]);
            if ((b >= 0xE3 && b <= 0xED)
                || (b == 0xEF && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0xBC
                    && static_cast<unsigned char>(s[i + 1]) <= 0xBF))
                return true;
        }
        return false;
    }

    struct GroupSet {
        std::unique_ptr<RE2::Set> set;
        std::vector<int> global; ///< the set's pattern index → add() order
        bool compiled = false;
    };
    std::array<GroupSet, kGroups> m_groups;
    /// The other languages' phrases of one group and language, compiled on first need.
    struct Part {
        int group = 0;
        std::string language;
        std::vector<int> global; ///< the set's pattern index → add() order
        std::unique_ptr<RE2::Set> set; ///< made inside `once`
        std::once_flag once;
        bool usable = false; ///< written once inside `once`
        std::atomic<bool> ready {false}; ///< `once` has run
        /// Written once inside its script's Gates::once: per phrase, lists of atoms of which the
        /// reply must hold one each; `always` when a phrase needs nothing known.
        std::vector<std::vector<std::vector<int>>> needs;
        bool always = false;
    };
    mutable std::deque<Part> m_parts; // a deque: a Part never moves
    mutable std::array<Gates, kScripts> m_gates;
    std::vector<std::string> m_languageOf; ///< parallel to m_patterns until compile(): an other language's code
    std::vector<std::string> m_englishMarkers; ///< sorted
    std::unique_ptr<RE2::Set> m_markers;
    bool m_hasMarkers = false;
    std::vector<Owner> m_owners;
    std::vector<std::string> m_patterns;
    std::vector<std::string> m_wheres; ///< parallel to m_patterns until compile(): where each is from
    std::vector<bool> m_shipped; ///< parallel to m_patterns until compile(): built into the program
    std::vector<std::string> m_markerWords; ///< until compile()
    mutable std::deque<std::atomic<RE2*>> m_single; ///< parallel to m_patterns, compiled on demand
    std::vector<Literal> m_literals; ///< parallel to m_patterns
    std::vector<bool> m_latin1; ///< parallel to m_patterns: compiled as Latin-1 (see add())
};

bool hostHasSuffix(std::string_view host, std::string_view suffix)
{
    if (host.size() < suffix.size())
        return false;
    const auto tail = host.substr(host.size() - suffix.size());
    // Compared in place: this runs for every provider suffix of every reply.
    for (std::size_t i = 0; i < tail.size(); ++i)
        if (text::lower(tail[i]) != text::lower(suffix[i]))
            return false;
    return host.size() == suffix.size() || host[host.size() - suffix.size() - 1] == '.';
}

/// "5.7.26 Multiple authentication checks failed (Permanent failure; Security or policy status): …"
std::string enhancedMeaning(const KnowledgeBase& kb, std::string_view enhanced, const CodeInfo* code)
{
    std::string m(enhanced);
    if (code && !code->name.empty())
        m += " " + code->name;
    const auto cm = kb.classMeaning(enhanced.front());
    const auto dot1 = enhanced.find('.');
    const auto dot2 = enhanced.find('.', dot1 + 1);
    const auto sm = kb.subjectMeaning(enhanced.substr(dot1 + 1, dot2 - dot1 - 1));
    if (!cm.empty() || !sm.empty())
        m += " (" + cm + (cm.empty() || sm.empty() ? "" : "; ") + sm + ")";
    if (code && !code->meaning.empty())
        m += ": " + code->meaning;
    return m;
}

/// "sender.office.com" from "https://www.sender.office.com/path": the part a step names.
std::string_view urlHost(std::string_view url)
{
    const auto scheme = url.find("://");
    if (scheme != std::string_view::npos)
        url.remove_prefix(scheme + 3);
    if (url.starts_with("www."))
        url.remove_prefix(4);
    return url.substr(0, url.find_first_of("/?#"));
}

/// '2', '4' or '5' from the enhanced code, else from the basic code; '0' when there is neither.
char statusClass(const Diagnosis& d)
{
    if (!d.enhancedCode.empty())
        return d.enhancedCode.front();
    return d.basicCode ? static_cast<char>('0' + *d.basicCode / 100) : '0';
}

/// The reply as the patterns read it, and where each of its bytes came from in the reply.
struct ReadableText {
    std::string text;
    std::vector<std::size_t> starts; ///< offset in the reply of the byte (or character) it came from
    std::vector<std::size_t> ends; ///< one past the end of that byte or character in the reply
};

/// Spacing and punctuation as the patterns are written: a run of spaces, tabs, line breaks and
/// Unicode spaces (no-break U+00A0 from HTML, U+2000–U+200A, U+202F, U+205F, U+3000) as one space;
/// typographic quotes (U+2018, U+2019, U+02BC; U+201C, U+201D) as ' and "; en and em dashes as
/// '-'; an HTML entity as its character. Replies copied from web pages, HTML bounces and editors
/// carry all of these (entities measured: 5 of 3 516 changed family, 0 now). Measured on the
/// development split, each applied to every reply: no-break spaces changed the family of 701 of
/// 3 516, doubled spaces 484, tabs 485, typographic apostrophes 3
/// (LabelledReplies.SpacingAndQuotesDoNotChangeTheFamily). False when nothing needs it.
bool plainSpacing(std::string_view t, ReadableText& out)
{
    auto at = [&](std::size_t i) { return i < t.size() ? static_cast<unsigned char>(t[i]) : 0u; };
    // What the character at i becomes and how many bytes it has; 0 when it stays as it is.
    auto replaced = [&](std::size_t i, char& as) -> std::size_t {
        const unsigned c = at(i);
        if (c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
            as = ' ';
            return 1;
        }
        if (c == 0xC2 && at(i + 1) == 0xA0) {
            as = ' ';
            return 2;
        }
        if (c == 0xCA && at(i + 1) == 0xBC) {
            as = '\'';
            return 2;
        }
        if (c == 0xE2 && at(i + 1) == 0x80) {
            const unsigned d = at(i + 2);
            if ((d >= 0x80 && d <= 0x8A) || d == 0xAF)
                as = ' ';
            else if (d == 0x98 || d == 0x99)
                as = '\'';
            else if (d == 0x9C || d == 0x9D)
                as = '"';
            else if (d == 0x93 || d == 0x94)
                as = '-';
            else
                return 0;
            return 3;
        }
        if ((c == 0xE2 && at(i + 1) == 0x81 && at(i + 2) == 0x9F)
            || (c == 0xE3 && at(i + 1) == 0x80 && at(i + 2) == 0x80)) {
            as = ' ';
            return 3;
        }
        if (c == '&') {
            // An HTML entity of a reply copied from a page's source ("doesn&#39;t",
            // "&lt;bob@example.com&gt;"): the character it stands for.
            static constexpr std::pair<std::string_view, char> kEntities[]
                = {{"&lt;", '<'},   {"&gt;", '>'},   {"&amp;", '&'},   {"&quot;", '"'}, {"&apos;", '\''},
                   {"&nbsp;", ' '}, {"&#39;", '\''}, {"&#x27;", '\''}, {"&#34;", '"'},  {"&#38;", '&'},
                   {"&#60;", '<'},  {"&#62;", '>'},  {"&#160;", ' '}};
            for (const auto& [entity, ch] : kEntities)
                if (t.substr(i, entity.size()) == entity) {
                    as = ch;
                    return entity.size();
                }
        }
        return 0;
    };
    // Most replies need nothing. Sixteen bytes at a time (SSE2, which every x86-64 has): no byte
    // below 0x20 or above 0x7F and no two spaces side by side lets them pass (a byte-by-byte look
    // was 800 instructions a reply, 8 % of a diagnosis); the rest, and elsewhere all, is looked
    // at byte by byte.
    bool needed = false;
    {
        const auto* p = reinterpret_cast<const unsigned char*>(t.data());
        std::size_t k = 0;
#if defined(__SSE2__)
        const __m128i space = _mm_set1_epi8(' ');
        const __m128i amp = _mm_set1_epi8('&');
        bool spaceBefore = false;
        for (; k + 16 <= t.size(); k += 16) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k));
            // Signed: bytes 0x80-0xFF are negative, so one comparison finds them and 0x00-0x1F.
            const int odd = _mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(x, space), _mm_cmpeq_epi8(x, amp)));
            const int spaces = _mm_movemask_epi8(_mm_cmpeq_epi8(x, space));
            if (odd != 0 || (spaces & (spaces >> 1)) != 0 || (spaceBefore && (spaces & 1) != 0))
                break;
            spaceBefore = (spaces & 0x8000) != 0;
        }
#endif
        unsigned char previous = k > 0 ? p[k - 1] : 0;
        for (; k < t.size(); ++k) {
            const unsigned char c = p[k];
            if (c < 0x20 || c >= 0x80 || c == '&' || (c == ' ' && previous == ' ')) {
                char as = 0;
                if (c == ' ' || replaced(k, as) > 0) {
                    needed = true;
                    break;
                }
            }
            previous = c;
        }
    }
    if (!needed)
        return false;
    out.text.clear();
    out.starts.clear();
    out.ends.clear();
    for (std::size_t i = 0; i < t.size();) {
        char as = t[i];
        std::size_t n = replaced(i, as);
        if (n == 0)
            n = 1;
        if (as == ' ' && !out.text.empty() && out.text.back() == ' ') {
            out.ends.back() = i + n; // one space for the whole run
        } else {
            out.text += as;
            out.starts.push_back(i);
            out.ends.push_back(i + n);
        }
        i += n;
    }
    return true;
}

/// A multi-line reply ("550-5.7.1 words\n550-5.7.1 more words\n550 5.7.1 last words", as Gmail,
/// Outlook and most servers write a long one) joined into one text keeps each line's code, which
/// falls anywhere, often inside a phrase ("Too 421-4.7.0 many bad 421 4.7.0 recipients"). The
/// words are read without those markers: `clean` gets the text without every line code after the
/// first (the basic code with "-", or with a space once a "-" line was seen, and the enhanced code
/// after it; the first "NNN-" as "NNN "), and `kept` the offset in `text` of each of its bytes.
/// False when the text has no such marker. The development split's long replies broken into
/// three such lines: 253 of 1 390 changed family before, 4 after
/// (LabelledReplies.AReplyBrokenIntoLinesKeepsItsFamily).
bool withoutLineCodes(std::string_view text, std::optional<int> basic, std::string& clean,
                      std::vector<std::size_t>& kept)
{
    if (!basic || *basic < 200 || *basic > 599)
        return false;
    const char code[4] = {static_cast<char>('0' + *basic / 100), static_cast<char>('0' + *basic / 10 % 10),
                          static_cast<char>('0' + *basic % 10), '-'};
    const std::string_view dashed(code, 4), bare(code, 3);
    // Most replies are one line: no "NNN-" at all (one search, the common case).
    if (text.find(dashed) == std::string_view::npos)
        return false;
    // The reply's own code at its start (or after a prefix such as "host x said: ") is kept.
    const auto first = text.find(bare);
    auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
    // An enhanced code "X.Y.Z" at `at`: its length, else 0.
    auto enhancedAt = [&](std::size_t at) -> std::size_t {
        std::size_t i = at;
        if (i >= text.size() || (text[i] != '2' && text[i] != '4' && text[i] != '5'))
            return 0;
        ++i;
        for (int part = 0; part < 2; ++part) {
            if (i >= text.size() || text[i] != '.')
                return 0;
            ++i;
            const auto digits = i;
            while (i < text.size() && isDigit(text[i]) && i - digits < 3)
                ++i;
            if (i == digits)
                return 0;
        }
        // "5.7.1:" as some servers write it.
        if (i < text.size() && (text[i] == ':' || text[i] == ';'))
            ++i;
        return i < text.size() && !isSpace(text[i]) ? 0 : i - at;
    };
    bool dashSeen = text.compare(first, dashed.size(), dashed) == 0;
    bool changed = false;
    clean.clear();
    kept.clear();
    std::size_t i = 0;
    auto copy = [&](std::size_t to) {
        if (to <= i)
            return;
        clean.append(text.substr(i, to - i));
        for (; i < to; ++i)
            kept.push_back(i);
    };
    copy(first + bare.size());
    // The first line's "NNN-" reads as "NNN " (the same length: the offsets stay).
    if (dashSeen) {
        clean += ' ';
        kept.push_back(i++);
        changed = true;
    }
    while (i < text.size()) {
        const auto at = text.find(bare, i);
        if (at == std::string_view::npos)
            break;
        const auto after = at + bare.size();
        const bool bounded = at > 0 && isSpace(text[at - 1]) && after < text.size();
        const bool dash = bounded && text[after] == '-';
        const bool space = bounded && text[after] == ' ' && dashSeen;
        if (!dash && !space) {
            copy(after);
            continue;
        }
        std::size_t end = after + 1;
        const auto enhanced = enhancedAt(end);
        // After a space only a line that repeats an enhanced code, or the line after a "-" line
        // when the reply has none, is a continuation ("limit 550 per hour" is not).
        if (space && enhanced == 0 && enhancedAt(first + bare.size() + 1) > 0) {
            copy(after);
            continue;
        }
        end += enhanced;
        while (end < text.size() && text[end] == ' ')
            ++end;
        dashSeen = dashSeen || dash;
        copy(at); // the whitespace before the marker stays: it separates the words
        i = end;
        changed = true;
    }
    copy(text.size());
    return changed;
}

/// The masks of a masked IPv4 address's octets ("x", "xxx", "n", "*").
bool ipMask(char c)
{
    return c == 'x' || c == 'X' || c == 'n' || c == 'N' || c == '*';
}

/// The length of an IPv4 address as documentation and help pages write it, masked, at s[i]:
/// "x.x.x.x", "xxx.xxx.xxx.xxx", "192.0.2.x", "n.n.n.n", "*.*.*.*", "a.b.c.d"; 0 when there is
/// none (a real address is not one: it needs no reading).
std::size_t maskedIpAt(std::string_view s, std::size_t i)
{
    const auto alnum = [](char c) { return text::isAlpha(c) || text::isDigit(c); };
    if (i > 0 && (alnum(s[i - 1]) || s[i - 1] == '.'))
        return 0;
    std::size_t at = i;
    int masked = 0;
    for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (at >= s.size() || s[at] != '.')
                return 0;
            ++at;
        }
        const std::size_t from = at;
        if (at < s.size() && text::isDigit(s[at])) {
            while (at < s.size() && at - from < 3 && text::isDigit(s[at]))
                ++at;
        } else if (at < s.size() && ipMask(s[at])) {
            while (at < s.size() && at - from < 3 && s[at] == s[from])
                ++at;
            ++masked;
        } else if (at < s.size() && s[at] >= 'a' && s[at] <= 'd' && s[at] - 'a' == octet) {
            ++at; // "a.b.c.d"
            ++masked;
        } else {
            return 0;
        }
        if (at < s.size() && alnum(s[at]))
            return 0;
    }
    // Not a fifth label ("x.x.x.x.example"), and something was masked.
    if (masked == 0 || (at + 1 < s.size() && s[at] == '.' && alnum(s[at + 1])))
        return 0;
    return at - i;
}

/// Where the first masked address at or after `from` begins and its length; {npos, 0} if none.
std::pair<std::size_t, std::size_t> nextMaskedIp(std::string_view t, std::size_t from)
{
    // A masked address has a mask beside one of its dots at least: every other dot (an enhanced
    // code's, a sentence's, a domain's) is passed over at once. From such a dot the address can
    // only begin where the run of octet bytes and dots before it begins.
    const auto mask = [](char c) { return ipMask(c) || (c >= 'a' && c <= 'd'); };
    const auto octet = [&](char c) { return text::isDigit(c) || mask(c); };
    for (std::size_t i = t.find('.', from); i != std::string_view::npos; i = t.find('.', i + 1)) {
        if (i == 0 || i + 1 >= t.size() || !(mask(t[i - 1]) || mask(t[i + 1])))
            continue;
        std::size_t b = i;
        while (b > from && i - b < 16 && (octet(t[b - 1]) || t[b - 1] == '.'))
            --b;
        if (b < i)
            if (const auto n = maskedIpAt(t, b))
                return {b, n};
    }
    return {std::string_view::npos, 0};
}

/// Masked IPv4 addresses as zeros, length for length ("x.x.x.x" → "0.0.0.0"): the patterns know a
/// client's address by its digits ("554 [192.0.2.1] Access denied", "Message from (192.0.2.1)
/// temporarily deferred"), and a help page's "[x.x.x.x]" says the same. The labelled replies were
/// collected with documentation addresses filled in; written as help pages write them, 3 to 10 of
/// the 278 development replies that name one changed family (2026-12-08).
bool unmaskIps(std::string& t)
{
    bool changed = false;
    for (auto [at, n] = nextMaskedIp(t, 0); at != std::string::npos; std::tie(at, n) = nextMaskedIp(t, at + n)) {
        for (std::size_t k = at; k < at + n; ++k)
            if (t[k] != '.' && !text::isDigit(t[k]))
                t[k] = '0';
        changed = true;
    }
    return changed;
}

/// The reply as the patterns read it (plainSpacing, then withoutLineCodes, then unmaskIps);
/// false when that is the reply itself.
bool readable(std::string_view reply, std::optional<int> basic, ReadableText& out)
{
    thread_local ReadableText spaced;
    thread_local std::string clean;
    thread_local std::vector<std::size_t> kept;
    const bool respaced = plainSpacing(reply, spaced);
    const std::string_view t = respaced ? std::string_view(spaced.text) : reply;
    if (!withoutLineCodes(t, basic, clean, kept)) {
        if (respaced) {
            std::swap(out, spaced);
            unmaskIps(out.text);
            return true;
        }
        // Only a masked address to read: the same bytes, one for one.
        if (nextMaskedIp(reply, 0).first == std::string_view::npos)
            return false;
        out.text.assign(reply);
        unmaskIps(out.text);
        out.starts.resize(reply.size());
        out.ends.resize(reply.size());
        for (std::size_t k = 0; k < reply.size(); ++k) {
            out.starts[k] = k;
            out.ends[k] = k + 1;
        }
        return true;
    }
    std::swap(out.text, clean);
    unmaskIps(out.text);
    out.starts.resize(kept.size());
    out.ends.resize(kept.size());
    for (std::size_t k = 0; k < kept.size(); ++k) {
        out.starts[k] = respaced ? spaced.starts[kept[k]] : kept[k];
        out.ends[k] = respaced ? spaced.ends[kept[k]] : kept[k] + 1;
    }
    return true;
}

/// Where the cause begins in "<party> rejected: <cause>" replies (Postfix, Exchange, most
/// filters word their refusals so) and in "Rejecting due to security policy - <cause>", or npos
/// when the reply has no such structure.
std::size_t causeStart(std::string_view s)
{
    // One pass over the separators (':' and " - "), checking the word before each: cheaper than
    // searching the text once per marker. Before a dash only "rejected" and "policy" mark it (a
    // dash is too common elsewhere), and "policy" only before a dash.
    static constexpr std::string_view kParty[]
        = {"rejected", "refused", "denied", "blocked", "not accepted", "failed", "policy"};
    auto endsWithParty = [&](std::size_t end, bool dash) {
        // Every marker ends in 'd' or 'y': most separators are ruled out by that one letter.
        if (end == 0 || ((s[end - 1] | 0x20) != 'd' && (s[end - 1] | 0x20) != 'y'))
            return false;
        for (const auto m : kParty) {
            // "policy:" is common in replies whose words before it say the cause already: only
            // "policy - " marks one (and reading the lexicons for every "policy:" costs ~5 %).
            if (dash ? m != "rejected" && m != "policy" : m == "policy")
                continue;
            if (end >= m.size() && text::startsWithNoCase(s.substr(end - m.size()), m))
                return true;
        }
        return false;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == ':' && endsWithParty(i, false))
            return i + 1;
        if (s[i] == '-' && i >= 1 && s[i - 1] == ' ' && endsWithParty(i - 1, true))
            return i + 1;
    }
    return std::string_view::npos;
}
/// True when the refused party is the envelope sender: the words just before the
/// "rejected:" marker name it ("Sender address rejected:", "MAIL FROM rejected:").
/// The words just before the cause: where the refused party is named (empty without a cause).
std::string_view partyWords(std::string_view s, std::size_t cause)
{
    if (cause == std::string_view::npos)
        return {};
    const auto from = cause > 40 ? cause - 40 : 0;
    return s.substr(from, cause - from);
}

bool refusesSender(std::string_view s, std::size_t cause)
{
    const auto party = partyWords(s, cause);
    return text::findNoCase(party, "sender") != std::string_view::npos
        || text::findNoCase(party, "mail from") != std::string_view::npos
        || text::findNoCase(party, "envelope from") != std::string_view::npos;
}

/// True when the reply speaks of the envelope sender and of no recipient, without the
/// "<party> rejected:" structure: "501 5.1.8 Sender address must contain a domain", "Domain in
/// MAIL FROM has null MX record", "sender <a@example.com> from example.com MX invalid". An
/// address-like cause then is the sender's, as the enhanced codes X.1.7 and X.1.8 say. A
/// recipient's enhanced code (X.1.1–X.1.6, X.2.x) or word keeps the recipient reading.
bool namesOnlySender(std::string_view s, std::optional<int> basic, std::string_view enhanced)
{
    const auto mentions = [s](const auto& words) {
        return std::any_of(std::begin(words), std::end(words),
                           [s](std::string_view w) { return text::findNoCase(s, w) != std::string_view::npos; });
    };
    // Words that can only name the envelope sender's domain say whose it is, whatever the code
    // ("550 5.1.2 MAIL FROM domain does not exist": X.1.2 is the usual code for a missing domain).
    static constexpr std::string_view kSenderDomain[]
        = {"sender domain", "sender's domain", "mail from domain", "domain of sender", "domain of the sender"};
    static constexpr std::string_view kRecipientWords[] = {"recipient", "rcpt"};
    if (mentions(kSenderDomain) && !mentions(kRecipientWords))
        return true;
    if (enhanced.size() >= 3 && enhanced.substr(1, 2) == ".2")
        return false;
    if (enhanced.size() >= 5 && enhanced.substr(1, 3) == ".1." && enhanced[4] != '7' && enhanced[4] != '8')
        return false;
    static constexpr std::string_view kSender[]
        = {"sender address", "sender's address", "sender domain",     "sender's domain",  "mail from:",
           "mail from <",    "in mail from",     "mail from address", "mail from domain", "envelope sender",
           "envelope from",  "domain of sender", "return path",       "return-path",      "reverse path",
           "reverse-path",   "sender <",         "sender must",       "from: address",    "from:domain",
           "from: domain",   "null sender",      "from address",      "your domain"};
    // A server that says "syntax" or "malformed" means the command's form (a usage line such as "Syntax: MAIL
    // FROM:<address>", "Invalid argument to MAIL FROM: parameter SMTPUTF8", "Sender address too
    // long"), and a Return-Path header is content, not the envelope.
    static constexpr std::string_view kOtherReading[] = {"recipient", "rcpt",   "mailbox",  "user",      "syntax",
                                                         "malformed", "header", "argument", "parameter", "too long"};
    // X.1.7 and X.1.8 name the sender's address or domain themselves: with no word of another
    // reading ("553 5.1.7 invalid domain name", "553 5.1.7 invalid local part"), the code says
    // whose address it is. A failed DNS lookup stays a DNS failure.
    static constexpr std::string_view kLookup[] = {"dns", "resolv", "lookup", "look up"};
    // "Malformed" and "syntax" then describe that address ("550 5.1.7 Malformed address", "553 5.1.7
    // mailbox syntax not allowed"), unless the basic code is 501, the command's own syntax error.
    static constexpr std::string_view kRecipientReading[] = {"recipient", "rcpt", "header"};
    if (enhanced.size() == 5 && enhanced.substr(1, 3) == ".1." && (enhanced[4] == '7' || enhanced[4] == '8')
        && !mentions(basic == 501 ? std::span<const std::string_view>(kOtherReading)
                                  : std::span<const std::string_view>(kRecipientReading))
        && !mentions(kLookup))
        return true;
    // Every phrase above holds one of these words: most replies are ruled out in three scans
    // instead of one per phrase (this runs on every address-like verdict).
    if (text::findNoCase(s, "sender") == std::string_view::npos && text::findNoCase(s, "from") == std::string_view::npos
        && text::findNoCase(s, "path") == std::string_view::npos
        && text::findNoCase(s, "your domain") == std::string_view::npos)
        return false;
    return mentions(kSender) && !mentions(kOtherReading);
}

/// True when the refused party is the sending host ("Client host rejected:").
bool refusesClient(std::string_view s, std::size_t cause)
{
    return text::findNoCase(partyWords(s, cause), "client") != std::string_view::npos;
}

/// How much the words after the party marker weigh more, and the party's own words less.
constexpr int kCauseBonus = 10;
constexpr int kPartyPenalty = 15;

/// A curated rule this strong answers without the lexicons being read.
constexpr int kSureCuratedPriority = 60;
/// Below this, what the English rules found is vague words only.
constexpr int kWeakPriority = 50;

/// A code at least this heavy (codes.json weight) decides before the statistical model is asked.
constexpr int kStrongCodeWeight = 10;

/// A rule at least this sure (a provider's exact wording, a clear generic phrase, a vaguer one
/// read as the cause after "<party> rejected:") is not second-guessed by the model.
constexpr int kSureRulePriority = 70;
/// How sure the model must be to overturn a vaguer rule or a code alone when the two name
/// different families. Chosen on replies neither the rules nor the model had seen: the builds
/// made before labelled passes 9 and 13 were written for (8f1813e, the parent of da55b75), run
/// on those passes' development rows (611 and 411), against models trained without them.
/// Overturned at 0.8 below priority 70 where the code does not agree with the rule: 611 rows,
/// 28 changed, +19 net right answers (+17 with no rule examples in the model's training); 411
/// rows, 17 changed, +8 (+4). Rules of priority 70 and up lost more than they won, so they
/// stay. Every threshold from 0.6 to 0.95 gained but one (-1); 0.8 was best over the four
/// runs. Re-measured by resources/model/second_guess.py.
constexpr double kSecondGuessProbability = 0.8;

/// How close (in priority points, after the cause bonus and party penalty) a rule of another
/// family must come to the deciding rule to be shown as Diagnosis::alternative. Measured on the
/// development rows of labelled passes 9-12 and 13-19 with the builds made before their rules were
/// written (resources/model/second_guess.py's old builds, today's priorities): where a rival of
/// another family stood within 10 points (69 of 1 022 replies), the verdict was right on 30 and
/// the rival's family on 33; within 5, 39 replies, 18 and 19; within 20, 99 replies, 50 and 39.
/// Without the lexicons' lone cause words as rivals (below), within 10: 46 replies, 17 and 25.
constexpr int kCloseReading = 10;

/// A reason whose cause reads as an address's: when the refused party is the envelope sender,
/// it is the sender that was refused ("Sender address rejected: Domain not found").
bool addressLike(std::string_view reason)
{
    return familyOf(reason) == "address" || reason == "syntaxerror" || reason == "networkerror";
}

constexpr std::array<std::string_view, 4> kHardReasons {"userunknown", "hasmoved", "hostunknown", "notaccept"};

} // namespace

struct Classifier::Impl {
    // Rules, blocklists and providers share one set: one pass over the text finds them all.
    PatternSet patterns;
    std::vector<std::size_t> codeOnlyRules;
    /// Each rule's codes and unless-codes read once, parallel to the knowledge base's rules.
    struct RuleCodes {
        std::vector<CodePattern> codes;
        std::vector<CodePattern> unless;
    };
    std::vector<RuleCodes> ruleCodes;
    // Enhanced code → its most specific table entry and composed meaning, resolved once
    // (ranges and X.s.d expanded), so diagnose() never scans the code table.
    struct CodeEntry {
        const CodeInfo* info = nullptr;
        std::string meaning;
    };
    std::unordered_map<std::string, CodeEntry> codes;
    std::vector<std::string> basic; // "550 Requested action not taken…" for 200..599
    /// The same cut at the first ':': RFC 5321 words 450/550/553 after a colon as a mailbox
    /// problem ("mailbox unavailable"), which misleads on a block or an auth failure.
    std::vector<std::string> basicShort;
    bool codesHaveWildcards = false;

    struct Pass; // one reply's way through diagnose(), step by step
};

namespace
{
std::uint64_t nextSerial()
{
    static std::atomic<std::uint64_t> next {1};
    return next++;
}
} // namespace

Classifier::Classifier(std::shared_ptr<const KnowledgeBase> kb)
    : m_kb(std::move(kb))
    , m_impl(std::make_unique<Impl>())
    , m_serial(nextSerial())
{
    using Kind = PatternSet::Kind;
    auto& set = m_impl->patterns;
    const auto& rules = m_kb->rules();
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const auto where = rules[i].origin + ": rule \"" + rules[i].id + "\"";
        // Lexicon entries (resources/lexicon) run in their own passes: English always, the other
        // languages when the reply may be in one of them.
        const auto& id = rules[i].id;
        auto group = PatternSet::Curated;
        std::string_view language;
        if (id.rfind("lex.", 0) == 0) {
            language = std::string_view(id).substr(4, id.find('.', 4) - 4);
            group = language == "en" ? PatternSet::English : PatternSet::groupOfLanguage(language);
        }
        for (const auto& p : rules[i].patterns)
            set.add(p, {Kind::Rule, i}, where, group, rules[i].shipped, language);
        if (rules[i].patterns.empty())
            m_impl->codeOnlyRules.push_back(i);
        auto& rc = m_impl->ruleCodes.emplace_back();
        for (const auto& c : rules[i].codes)
            rc.codes.emplace_back(c);
        for (const auto& c : rules[i].unlessCodes)
            rc.unless.emplace_back(c);
    }
    const auto& lists = m_kb->blocklists();
    for (std::size_t i = 0; i < lists.size(); ++i)
        for (const auto& p : lists[i].patterns)
            set.add(p, {Kind::Blocklist, i}, "blocklists: \"" + lists[i].name + "\"");
    const auto& providers = m_kb->providers();
    for (std::size_t i = 0; i < providers.size(); ++i)
        for (const auto& p : providers[i].patterns)
            set.add(p, {Kind::Provider, i}, "providers: \"" + providers[i].name + "\"");
    for (const auto& word : m_kb->lexiconMarkers())
        set.addMarker(word);
    set.setEnglishMarkers(m_kb->englishMarkers());
    set.compile();

    // Expand every concrete code the table can name, then keep its most specific entry.
    std::vector<std::string> keys;
    for (const auto& c : m_kb->codes()) {
        if (c.code.ends_with("*")) {
            m_impl->codesHaveWildcards = true;
            continue;
        }
        std::string tail = c.code.substr(1);
        std::vector<std::string> tails;
        if (const auto range = tail.find(".."); range != std::string::npos) {
            const auto dot = tail.rfind('.', range - 1);
            const int lo = std::stoi(tail.substr(dot + 1, range - dot - 1));
            const int hi = std::stoi(tail.substr(range + 2));
            for (int v = lo; v <= hi; ++v)
                tails.push_back(tail.substr(0, dot + 1) + std::to_string(v));
        } else {
            tails.push_back(tail);
        }
        const bool anyClass = c.code.front() == 'X' || c.code.front() == 'x';
        for (const auto& t : tails)
            for (char cls : {'2', '4', '5'})
                if (anyClass || c.code.front() == cls)
                    keys.push_back(std::string(1, cls) + t);
    }
    for (const auto& k : keys) {
        const auto* info = m_kb->codeInfo(k);
        m_impl->codes.emplace(k, Impl::CodeEntry {info, enhancedMeaning(*m_kb, k, info)});
    }
    for (int b = 200; b < 600; ++b) {
        const auto bm = m_kb->basicMeaning(b);
        m_impl->basic.push_back(std::to_string(b) + (bm.empty() ? std::string() : " " + bm));
        const auto colon = bm.find(':');
        m_impl->basicShort.push_back(colon == std::string::npos ? m_impl->basic.back()
                                                                : std::to_string(b) + " " + bm.substr(0, colon));
    }
}

Classifier::~Classifier() = default;

void Classifier::applyReason(Diagnosis& d, std::string_view reason) const
{
    if (d.reason == reason)
        return;
    d.reason = std::string(reason);
    d.overruled.clear();
    // The context that set the reason (a format's stated reason, an ESP's bounce type, an ARF
    // report) is knowledge like a rule's, not the statistical guess or the code alone.
    d.confidence = "rule";
    d.family = std::string(familyOf(reason));
    d.spamRelated = std::string(defaultSpamRelated(reason));
    d.action = std::string(defaultAction(reason));
    if (const auto* info = m_kb->reasonInfo(reason)) {
        d.explanation = info->explanation;
        d.steps = info->steps;
    }
    d.references.clear();
    const char cls = statusClass(d);
    d.hardBounce
        = cls != '4' && cls != '2' && std::find(kHardReasons.begin(), kHardReasons.end(), reason) != kHardReasons.end();
}

std::string readableWords(std::string_view reply, std::optional<int> basicCode, std::size_t start, std::size_t end)
{
    start = std::min(start, reply.size());
    end = std::clamp(end, start, reply.size());
    thread_local std::string clean;
    thread_local std::vector<std::size_t> kept;
    if (!withoutLineCodes(reply, basicCode, clean, kept))
        return std::string(reply.substr(start, end - start));
    // The bytes the classifier kept, of those between the offsets; a space stands for each run
    // left out, so the words either side stay apart.
    std::string words;
    std::size_t last = std::string_view::npos;
    for (std::size_t k = 0; k < kept.size(); ++k) {
        if (kept[k] < start || kept[k] >= end)
            continue;
        if (last != std::string_view::npos && kept[k] != last + 1 && !words.empty() && words.back() != ' ')
            words.push_back(' ');
        words.push_back(clean[k]);
        last = kept[k];
    }
    // Runs of spaces the line codes left behind, as one.
    std::string out;
    out.reserve(words.size());
    for (const char c : words)
        if (c != ' ' || (!out.empty() && out.back() != ' '))
            out.push_back(c);
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

Diagnosis Classifier::diagnoseText(std::string_view input, Texts texts) const
{
    // An ESP's event as JSON (a line of an export piped in): its reply field. Several lines may
    // carry a gateway's banner or footer pasted with the reply; one line is read as it is.
    if (const auto first = input.find_first_not_of(" \t");
        first != std::string_view::npos && (input[first] == '{' || input[first] == '['))
        if (const auto event = jsonEventReply(input))
            return diagnosePasted(*this, primaryReply(*event), texts);
    // One line is read as it is, unless its line breaks are escaped (a TSV cell, a log):
    // blankAsides reads those as the lines they stand for, so "550-5.1.1 …\\n550 5.1.1 …" loses
    // its continuation codes between the words.
    if (input.find('\n') == std::string_view::npos && !text::hasEscapedBreaks(input))
        return diagnosePasted(*this, primaryReply(input), texts);
    return diagnosePasted(*this, primaryReply(blankAsides(input, *m_kb)), texts);
}

/// One reply on its way through diagnose(): the hits of the pattern passes, the rules that fit,
/// and what each step leaves for the next.
struct Classifier::Impl::Pass {
    const KnowledgeBase& kb;
    const Impl& impl;
    Diagnosis& d;
    std::string_view s; ///< the reply text (d.replyText)
    std::size_t cause = std::string_view::npos; ///< where "<party> rejected: <cause>" begins its cause
    std::vector<int>& hits; ///< pattern indices found, ascending
    /// Pattern spans already computed (each costs a regex run): hit index → [start, end).
    std::vector<std::pair<int, std::pair<std::size_t, std::size_t>>>& spans;
    struct Candidate {
        std::size_t rule;
        int pattern = -1;
        int priority = 0; ///< the rule's, moved by where its words sit (see causeStart)
    };
    std::vector<Candidate> candidates;
    std::vector<Evidence> listEvidence;
    bool anyListing = false; ///< a blocklist cited as listing the sender
    bool lookupFailed = false; ///< a blocklist's "query refused" code cited
    const CodeInfo* code = nullptr;
    const CodeEntry* codeEntry = nullptr;
    const Rule* winner = nullptr;
    bool useWinnerText = false; ///< the winner's explanation, steps and overrides apply
    bool codeDecides = false;
    bool listDecided = false; ///< a cited blocklist decided (decide())
    /// decide() read an address-like cause as the refused sender's, or spam as the refused
    /// client host's: a rival of that kind is the same reading, not another one.
    bool senderRefused = false;
    bool clientRefused = false;
    /// Where the words naming the refused party stand when they turned the winner's cause into
    /// that party's refusal ("Sender address rejected: …" → rejected); npos otherwise.
    std::size_t partyAt = std::string_view::npos;
    std::size_t partyEnd = std::string_view::npos;
    std::optional<ReplyModel::Guess> guess;
    bool fromBounceEmail = false; ///< Reply::fromBounceEmail
    bool emailReading = false; ///< the winner's bounceEmailReason decided

    const PatternSet& set() const { return impl.patterns; }

    /// The strongest of hits[from…] and `best`: a fitting rule's priority, a blocklist as 90.
    int bestPriority(std::size_t from, int best) const
    {
        for (auto i = from; i < hits.size(); ++i) {
            const auto& o = set().owner(hits[i]);
            if (o.kind == PatternSet::Kind::Rule && fits(kb.rules()[o.index]))
                best = std::max(best, kb.rules()[o.index].priority);
            else if (o.kind == PatternSet::Kind::Blocklist)
                best = std::max(best, 90);
        }
        return best;
    }

    /// A rule applies when its provider scope and code constraint fit this reply.
    bool fits(const Rule& r) const
    {
        if (!r.provider.empty() && r.provider != d.provider)
            return false;
        const auto& rc = impl.ruleCodes[static_cast<std::size_t>(&r - kb.rules().data())];
        const auto matches = [&](const CodePattern& c) { return c.matches(d.basicCode, d.enhancedCode); };
        if (std::any_of(rc.unless.begin(), rc.unless.end(), matches))
            return false;
        return rc.codes.empty() || std::any_of(rc.codes.begin(), rc.codes.end(), matches);
    }

    bool spanOf(int h, std::size_t& start, std::size_t& end)
    {
        for (const auto& [k, v] : spans)
            if (k == h) {
                start = v.first;
                end = v.second;
                return start != std::string_view::npos;
            }
        if (!set().span(h, s, start, end))
            start = end = std::string_view::npos;
        spans.push_back({h, {start, end}});
        return start != std::string_view::npos;
    }

    /// Records the first of `words` in the reply as the party evidence (see partyAt).
    void notePartyWords(std::initializer_list<std::string_view> words)
    {
        for (const auto w : words)
            if (const auto at = text::findNoCase(s, w); at < partyAt) {
                partyAt = at;
                partyEnd = at + w.size();
            }
    }

    void match();
    void citeBlocklists();
    void rankRules();
    void decide();
    void explain(bool withTexts);
};

/// Provider from the remote host, then the pattern passes: the curated set always; the
/// lexicons when no curated rule is sure or the reply names a refused party.
void Classifier::Impl::Pass::match()
{
    using Kind = PatternSet::Kind;
    const auto& providers = kb.providers();
    // The remote host is the surest sign of the provider, wording in the reply the next.
    for (std::size_t pi = 0; pi < providers.size() && !d.remoteHost.empty() && d.provider.empty(); ++pi)
        for (const auto& suffix : providers[pi].hostSuffixes)
            if (hostHasSuffix(d.remoteHost, suffix)) {
                d.provider = providers[pi].name;
                break;
            }
    hits.clear();
    // The reply lowered once for every set that reads it (PatternSet::match).
    thread_local std::string lowered;
    lowered.clear();
    appendLowered(lowered, s);
    set().match(s, lowered, hits, PatternSet::Curated, PatternSet::AsIs + 1);
    // In add() order, so the first provider named in the tables wins, whatever order the set gives.
    std::sort(hits.begin(), hits.end());
    if (d.provider.empty()) {
        for (int h : hits)
            if (set().owner(h).kind == Kind::Provider) {
                d.provider = providers[set().owner(h).index].name;
                break;
            }
    }
    // The cause-word lexicons are the layer beside the curated rules: they are read when no
    // curated rule is sure (a provider's exact wording, a blocklist, a clear generic phrase,
    // priority 60 and up) or when the reply names a refused party, whose cause after the colon
    // may be a word only the lexicons know.
    cause = causeStart(s);
    const int curatedBest = bestPriority(0, -1);
    if (curatedBest < kSureCuratedPriority || cause != std::string_view::npos) {
        const auto curatedHits = hits.size();
        set().match(s, lowered, hits, PatternSet::English, PatternSet::English + 1);
        // A reply the English words leave (nearly) unexplained may be in another language even
        // without a non-ASCII letter ("Benutzer unbekannt").
        set().match(s, lowered, hits, PatternSet::kFirstOther, PatternSet::kGroups,
                    bestPriority(curatedHits, curatedBest) < kWeakPriority);
    }
    std::sort(hits.begin(), hits.end());
}

/// Blocklists cited anywhere in the reply, each list once, with their evidence.
void Classifier::Impl::Pass::citeBlocklists()
{
    const auto& lists = kb.blocklists();
    std::vector<std::size_t> listSeen;
    for (int h : hits) {
        if (set().owner(h).kind != PatternSet::Kind::Blocklist)
            continue;
        const auto li = set().owner(h).index;
        if (std::find(listSeen.begin(), listSeen.end(), li) != listSeen.end())
            continue;
        Evidence e;
        if (!set().span(h, s, e.start, e.end))
            continue;
        // A more specific list cited at the same place wins over a generic one ("Spamhaus").
        bool overlaps = false;
        for (const auto& o : listEvidence)
            overlaps = overlaps || (e.start < o.end && o.start < e.end);
        if (overlaps)
            continue;
        listSeen.push_back(li);
        e.rule = "blocklist:" + lists[li].name;
        listEvidence.push_back(std::move(e));
        const auto& info = lists[li];
        d.blocklists.push_back(
            {info.name, info.zones.empty() ? std::string() : info.zones.front(), info.lists, info.delistUrl});
    }
    // A Spamhaus "query refused" code next to a zone name means the receiver's lookup failed:
    // the zone alone then proves no listing.
    anyListing = std::any_of(d.blocklists.begin(), d.blocklists.end(), [](const BlocklistHit& b) { return b.listing; });
    lookupFailed
        = std::any_of(d.blocklists.begin(), d.blocklists.end(), [](const BlocklistHit& b) { return !b.listing; });
}

/// The rules that fit, ordered by priority after reading the reply's structure.
void Classifier::Impl::Pass::rankRules()
{
    const auto& rules = kb.rules();
    for (int h : hits) {
        if (set().owner(h).kind != PatternSet::Kind::Rule)
            continue;
        const auto ri = set().owner(h).index;
        if (std::any_of(candidates.begin(), candidates.end(), [&](const Candidate& c) { return c.rule == ri; }))
            continue;
        if (fits(rules[ri]))
            candidates.push_back({ri, h, rules[ri].priority});
    }
    for (const auto ri : impl.codeOnlyRules)
        if (fits(rules[ri]))
            candidates.push_back({ri, -1, rules[ri].priority});
    // In "<party> rejected: <cause>" the words after the colon say why and the words before it
    // only say who was refused ("Recipient address rejected: Account closed" is a closed
    // account, "Client host rejected: Greylisted" greylisting). A rule counts as the cause when
    // any of its patterns matches after the marker, and as party words only when all of them
    // match before it. Spans cost a regex run each: only a candidate that could overtake the
    // leader, or the leader, is looked at.
    if (cause != std::string_view::npos && candidates.size() > 1) {
        int top = 0;
        for (const auto& c : candidates)
            top = std::max(top, c.priority);
        for (auto& c : candidates) {
            if (c.pattern < 0 || c.priority + kCauseBonus < top - kPartyPenalty)
                continue;
            bool inCause = false, allBefore = true;
            for (int h : hits) {
                if (set().owner(h).kind != PatternSet::Kind::Rule || set().owner(h).index != c.rule)
                    continue;
                std::size_t start = 0, end = 0;
                if (!spanOf(h, start, end))
                    continue;
                inCause = inCause || start >= cause;
                allBefore = allBefore && end <= cause;
            }
            if (inCause)
                c.priority += kCauseBonus;
            else if (allBefore)
                c.priority -= kPartyPenalty;
        }
    }
    // Highest priority first; file order breaks ties so results never depend on hash order. A
    // stable insertion sort: a reply fits a handful of rules, and std::stable_sort took a
    // temporary buffer from the heap for them on every diagnosis.
    for (std::size_t i = 1; i < candidates.size(); ++i)
        for (std::size_t j = i; j > 0 && candidates[j].priority > candidates[j - 1].priority; --j)
            std::swap(candidates[j], candidates[j - 1]);
    winner = candidates.empty() ? nullptr : &rules[candidates.front().rule];
}

/// The reason: the strongest of the best rule, the code's own weight and a cited blocklist;
/// the model where no rule speaks and the code says little; then what the refused party means.
void Classifier::Impl::Pass::decide()
{
    if (!d.enhancedCode.empty()) {
        const auto it = impl.codes.find(d.enhancedCode);
        codeEntry = it != impl.codes.end() ? &it->second : nullptr;
        code = codeEntry ? codeEntry->info : impl.codesHaveWildcards ? kb.codeInfo(d.enhancedCode) : nullptr;
    }
    // A listing is a reputation block even when no rule knows the wording.
    constexpr int kBlocklistWeight = 85;
    const int rulePriority = winner ? candidates.front().priority : -1;
    const int codeWeight = code && !code->reason.empty() ? code->weight : -1;
    const int listWeight = anyListing && !lookupFailed ? kBlocklistWeight : -1;
    codeDecides = codeWeight > rulePriority && codeWeight > listWeight;
    listDecided = !codeDecides && listWeight > rulePriority;
    // No rule speaks and the code alone says little (5.7.1, 5.0.0, a bare 550): the model
    // trained on labelled replies reads the words instead, when it is sure enough.
    // Words that name no cause ("554 Message refused", "550 Delivery error") leave the verdict
    // to the code, else to nothing: the vocabulary reserves unknown for them, and the model's lean
    // on "refused" or "delivered" is what other replies with those words meant.
    // Only a code says more then: one that decides, or the subject of an enhanced code the model
    // weighs ("451 4.3.0 transaction failed" is the receiving system's); with none, or X.0.0,
    // nothing does.
    const bool saysNothing = !winner && !listDecided && !codeDecides
        && (d.enhancedCode.empty() || d.enhancedCode.substr(1) == ".0.0") && kb.saysNothing(s);
    if (!winner && !listDecided && codeWeight < kStrongCodeWeight && kb.model() && !saysNothing) {
        guess = kb.model()->guess(s, d.basicCode, d.enhancedCode);
        if (guess && (guess->probability < kb.model()->threshold() || !isKnownReason(guess->reason)))
            guess.reset();
    }
    if (guess)
        codeDecides = false;
    d.confidence = guess ? "model" : codeDecides ? "code" : (listDecided || winner) ? "rule" : "none";
    if (guess)
        d.reason = guess->reason;
    else if (codeDecides)
        d.reason = code->reason;
    else if (listDecided)
        d.reason = "blocked";
    else if (winner) {
        // Words the conventions of bounce emails read otherwise (Rule::bounceEmailReason).
        emailReading = fromBounceEmail && !winner->bounceEmailReason.empty();
        d.reason = emailReading ? winner->bounceEmailReason : winner->reason;
    }
    useWinnerText = winner && !codeDecides && !listDecided && !emailReading;
    // Which party was refused decides what an address-like cause means: "Sender address
    // rejected: User unknown" (or "…: Domain not found", "…: need fully-qualified address") is
    // the envelope sender refused, not a recipient to suppress.
    if (addressLike(d.reason) && (refusesSender(s, cause) || namesOnlySender(s, d.basicCode, d.enhancedCode))) {
        senderRefused = true;
        d.reason = "rejected";
        useWinnerText = false;
        notePartyWords({"sender", "mail from", "envelope from", "return path", "return-path", "reverse path",
                        "reverse-path", "your domain"});
    }
    // A host refused for the spam it sends ("Client host rejected: Too much spam from your mail
    // server") is a reputation block of that host, not a verdict on this message's content.
    if (refusesClient(s, cause) && d.reason == "spamdetected") {
        clientRefused = true;
        d.reason = "blocked";
        useWinnerText = false;
        notePartyWords({"client"});
    }
    // A vague rule or a code alone against words the model reads with near certainty: on
    // wording neither had seen, the model was right more often (see kSecondGuessProbability).
    // A rule the code agrees with has two signals behind it, and stands.
    const bool codeAgrees = code && !code->reason.empty() && familyOf(code->reason) == familyOf(d.reason);
    // So does a rule that holds only for some codes: it knows what the words mean in that class
    // ("Service refused, please try later" is a throttle with 421, a block with 550), which the
    // model, reading words, weighs little.
    // Nor is a rule that reads a delivery or an auto-reply second-guessed: the model learnt from
    // refusals, and read "Your message has been successfully relayed" as relaying denied.
    const bool secondGuess
        = (codeDecides
           || (winner && !listDecided && !codeAgrees && winner->codes.empty() && rulePriority < kSureRulePriority))
        && familyOf(d.reason) != "not_bounce";
    // Nor is the refused party's reading: "Sender domain does not have any MX records" is the sender
    // refused, which the model, weighing "domain" and "MX", read as the recipient's domain.
    if (!guess && secondGuess && !senderRefused && !clientRefused && !fromBounceEmail && kb.model() && !saysNothing) {
        const auto g = kb.model()->guess(s, d.basicCode, d.enhancedCode, false);
        if (g && g->probability >= kSecondGuessProbability && isKnownReason(g->reason)
            && familyOf(g->reason) != familyOf(d.reason) && familyOf(g->reason) != "unknown") {
            guess = kb.model()->guess(s, d.basicCode, d.enhancedCode);
            d.overruled = std::move(d.reason);
            d.reason = guess->reason;
            d.confidence = "model";
            codeDecides = false;
            useWinnerText = false;
            partyAt = std::string_view::npos;
        }
    }
    d.family = std::string(familyOf(d.reason));
    d.spamRelated = std::string(defaultSpamRelated(d.reason));
    d.action = std::string(defaultAction(d.reason));
    if (useWinnerText) {
        if (!winner->spamRelated.empty())
            d.spamRelated = winner->spamRelated;
        if (!winner->action.empty())
            d.action = winner->action;
    }
    // A rejection that names a blocklist is about spam, whatever the family default says.
    if (anyListing && !lookupFailed && (d.family == "reputation" || d.family == "policy" || d.family == "content"))
        d.spamRelated = "yes";
    const char cls = statusClass(d);
    d.hardBounce = cls != '4' && cls != '2'
        && std::find(kHardReasons.begin(), kHardReasons.end(), d.reason) != kHardReasons.end();
}

/// Evidence, the plain meaning of the codes, the explanation and the steps.
void Classifier::Impl::Pass::explain(bool withTexts)
{
    // A rival reading: the strongest other rule of another family close to the deciding one's
    // priority. Only where a rule decided (a code alone or the model say so in their own way:
    // `overruled` shows the rules' reading the model set aside).
    if (d.confidence == "rule" && winner && !listDecided) {
        const int top = candidates.front().priority;
        for (std::size_t i = 1; i < candidates.size() && candidates[i].priority >= top - kCloseReading; ++i) {
            const auto& r = kb.rules()[candidates[i].rule];
            // A lone cause word (the lexicons' "kw-" concepts: "too many", "parameter") is no
            // reading of its own: as rivals they were right 8 times of 23 on the unseen rows.
            if (r.id.find(".kw-") != std::string::npos)
                continue;
            const auto& reason = fromBounceEmail && !r.bounceEmailReason.empty() ? r.bounceEmailReason : r.reason;
            const auto family = familyOf(reason);
            if (family == d.family || family == "unknown" || !isKnownReason(reason))
                continue;
            // What the refused party already turned into the verdict ("Sender address rejected:
            // User unknown" is the sender refused, whichever address-like rule reads it).
            if ((senderRefused && addressLike(reason)) || (clientRefused && reason == "spamdetected"))
                continue;
            d.alternative = reason;
            d.alternativeEvidence.rule = r.id;
            std::size_t start = 0, end = 0;
            if (candidates[i].pattern >= 0 && spanOf(candidates[i].pattern, start, end)) {
                d.alternativeEvidence.start = start;
                d.alternativeEvidence.end = end;
            }
            break;
        }
    }
    // Evidence: the code when it decided, the winning rule's words (every span is another regex
    // run, so one rule of the family is enough), the blocklists cited, the model's words.
    if (codeDecides || (code && !code->reason.empty() && code->reason == d.reason)) {
        const auto at = s.find(d.enhancedCode);
        if (at != std::string_view::npos)
            d.evidence.push_back({at, at + d.enhancedCode.size(), "code:" + d.enhancedCode});
    }
    // When the refused party turned the winner's cause into that party's refusal, the evidence
    // is both: the party's words and the winner's cause words.
    const bool partyDecided = partyAt != std::string_view::npos && winner && !codeDecides && !guess;
    if (partyDecided)
        d.evidence.push_back({partyAt, partyEnd, "party:" + d.reason});
    bool ruleEvidence = false;
    for (const auto& c : candidates) {
        const auto& r = kb.rules()[c.rule];
        d.ruleIds.push_back(r.id);
        // The winner's words are the evidence for what they mean in a bounce email, too.
        const bool cause = (partyDecided || emailReading) && &r == winner;
        if ((familyOf(r.reason) != d.family && !cause) || ruleEvidence)
            continue;
        Evidence e;
        e.rule = r.id;
        if (c.pattern >= 0 && spanOf(c.pattern, e.start, e.end) && e.end > e.start) {
            d.evidence.push_back(std::move(e));
            ruleEvidence = true;
        } else if (c.pattern < 0 && d.basicCode) {
            // A rule matched by its reply code alone ("500-504: a syntax or sequence error"):
            // the code is its evidence; a same-family rule's words may still add theirs.
            const auto digits = std::to_string(*d.basicCode);
            if (const auto at = s.find(digits); at != std::string_view::npos)
                d.evidence.push_back({at, at + digits.size(), r.id});
        }
    }
    for (auto& e : listEvidence)
        d.evidence.push_back(std::move(e));
    if (guess)
        for (const auto& f : guess->strongest)
            d.evidence.push_back({f.start, f.end, "model:" + f.name});
    // By position, stable: an insertion sort, as there are one to four (std::stable_sort took a
    // temporary buffer from the heap for them on every diagnosis).
    for (std::size_t i = 1; i < d.evidence.size(); ++i)
        for (std::size_t j = i; j > 0 && d.evidence[j].start < d.evidence[j - 1].start; --j)
            std::swap(d.evidence[j], d.evidence[j - 1]);

    // Plain meaning of the codes (composed once per code at construction).
    if (!d.enhancedCode.empty())
        d.codeMeaning = codeEntry ? codeEntry->meaning : enhancedMeaning(kb, d.enhancedCode, code);
    if (d.basicCode) {
        // The basic code's mailbox wording only where the verdict is about an address.
        const auto& table = d.family == "address" || d.family == "unknown" ? impl.basic : impl.basicShort;
        const auto& b
            = *d.basicCode >= 200 && *d.basicCode < 600 ? table[*d.basicCode - 200] : std::to_string(*d.basicCode);
        d.codeMeaning = d.codeMeaning.empty() ? b : b + ". " + d.codeMeaning;
    }

    if (!withTexts)
        return;
    // Explanation and steps: the winning rule's, else the reason's defaults.
    const auto* info = kb.reasonInfo(d.reason);
    if (useWinnerText) {
        d.explanation = winner->explanation;
        d.steps = winner->steps;
        d.references = winner->references;
    }
    if (d.explanation.empty() && info)
        d.explanation = info->explanation;
    if (d.steps.empty() && info)
        d.steps = info->steps;
    for (const auto& b : d.blocklists) {
        if (b.delistUrl.empty())
            continue;
        // A rule's step that already sends the user to the list's page ("Request delisting at
        // sender.office.com") asks for the same thing: compare by the page's host.
        const auto host = urlHost(b.delistUrl);
        const bool mentioned = std::any_of(d.steps.begin(), d.steps.end(), [&](const std::string& st) {
            return st.find(b.delistUrl) != std::string::npos
                || (!host.empty() && text::findNoCase(st, host) != std::string_view::npos);
        });
        if (!mentioned)
            d.steps.push_back("Look the sending IP or domain up on " + b.name + " (" + b.delistUrl
                              + ") and request removal once the cause is fixed.");
    }
}

Diagnosis Classifier::diagnose(const Reply& reply, Texts texts) const
{
    return diagnose(Reply(reply), texts);
}

Diagnosis Classifier::diagnose(Reply&& reply, Texts texts) const
{
    Diagnosis d;
    d.basicCode = reply.basicCode;
    d.enhancedCode = std::move(reply.enhancedCode);
    d.replyText = std::move(reply.text);
    d.remoteHost = std::move(reply.remoteHost);
    d.remoteIp = std::move(reply.remoteIp);
    d.smtpStage = std::move(reply.smtpStage);
    d.permanent = statusClass(d) == '5';

    thread_local std::vector<int> hits;
    thread_local std::vector<std::pair<int, std::pair<std::size_t, std::size_t>>> spans;
    thread_local ReadableText readableText;
    spans.clear();
    // The words are read with plain spacing and without a multi-line reply's line codes; the
    // evidence is given back in the reply's own offsets.
    const bool cleaned = readable(d.replyText, d.basicCode, readableText);
    Impl::Pass pass {*m_kb,
                     *m_impl,
                     d,
                     cleaned ? std::string_view(readableText.text) : std::string_view(d.replyText),
                     std::string_view::npos,
                     hits,
                     spans};
    pass.fromBounceEmail = reply.fromBounceEmail;
    pass.match();
    pass.citeBlocklists();
    pass.rankRules();
    pass.decide();
    pass.explain(texts == Texts::Include);
    if (cleaned) {
        const auto& r = readableText;
        const auto n = r.starts.size();
        const auto toReply = [&](Evidence& e) {
            const auto start = std::min(e.start, n), end = std::min(e.end, n);
            // The end is one past the evidence's last byte (or character): mapped from that one.
            e.start = start < n ? r.starts[start] : d.replyText.size();
            e.end = end > start ? r.ends[end - 1] : e.start;
        };
        for (auto& e : d.evidence)
            toReply(e);
        if (!d.alternative.empty() && d.alternativeEvidence.end > d.alternativeEvidence.start)
            toReply(d.alternativeEvidence);
    }
    return d;
}

} // namespace bt
