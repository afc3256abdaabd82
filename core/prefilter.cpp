// SPDX-License-Identifier: MIT
#include "prefilter.h"

#include "text.h"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace bt::prefilter
{
namespace
{

/// At most this many strings in a set of all a part can match ("(?:ä|ae)" is two); beyond it
/// the part becomes a requirement.
constexpr std::size_t kMaxExact = 16;

/// Syntax this reader does not follow: the pattern gets no requirement at all.
struct Unfollowed {
};

/// What one part of a pattern matches. `exact`: every match is one of `strings`. Otherwise every
/// match holds, for each list in `all`, one of its strings.
struct Info {
    bool exact = false;
    std::vector<std::string> strings;
    std::vector<std::vector<std::string>> all;

    static Info of(std::vector<std::string> s) { return {true, std::move(s), {}}; }
    static Info anything() { return {}; }
};

void sortUnique(std::vector<std::string>& v)
{
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

class Reader
{
public:
    Reader(std::string_view p, std::size_t minAtom)
        : m_p(p)
        , m_minAtom(minAtom)
    {
    }

    Requirement read()
    {
        Info top = alternation();
        if (m_i != m_p.size())
            throw Unfollowed {}; // a stray ')'
        Requirement r;
        if (!top.exact)
            r.all = std::move(top.all);
        else if (auto list = asList(top))
            r.all.push_back(std::move(*list));
        for (auto& any : r.all)
            sortUnique(any);
        return r;
    }

private:
    bool atEnd() const { return m_i >= m_p.size(); }
    char peek() const { return m_p[m_i]; }

    /// One list of strings a match of `x` must hold: its own strings when all are long enough,
    /// else the most selective of its requirements (the one whose shortest string is longest).
    std::optional<std::vector<std::string>> asList(const Info& x) const
    {
        if (x.exact) {
            if (x.strings.empty())
                return std::nullopt;
            for (const auto& s : x.strings)
                if (s.size() < m_minAtom)
                    return std::nullopt;
            return x.strings;
        }
        const std::vector<std::string>* best = nullptr;
        std::size_t bestShortest = 0;
        for (const auto& list : x.all) {
            std::size_t shortest = SIZE_MAX;
            for (const auto& s : list)
                shortest = std::min(shortest, s.size());
            if (!best || shortest > bestShortest || (shortest == bestShortest && list.size() < best->size())) {
                best = &list;
                bestShortest = shortest;
            }
        }
        if (!best)
            return std::nullopt;
        return *best;
    }

    Info alternation()
    {
        std::vector<Info> branches;
        branches.push_back(concatenation());
        while (!atEnd() && peek() == '|') {
            ++m_i;
            branches.push_back(concatenation());
        }
        if (branches.size() == 1)
            return std::move(branches.front());
        std::size_t total = 0;
        bool allExact = true;
        for (const auto& b : branches) {
            allExact = allExact && b.exact;
            total += b.strings.size();
        }
        if (allExact && total <= kMaxExact) {
            std::vector<std::string> all;
            for (auto& b : branches)
                all.insert(all.end(), b.strings.begin(), b.strings.end());
            return Info::of(std::move(all)); // sorted, duplicates dropped, once in read()
        }
        // Each branch must name what it needs; one that needs nothing frees the whole. "(A and B)
        // or (C and D)" needs "A or C", "A or D", "B or C" and "B or D": the lists are crossed
        // while there are at most kMaxExact of them, else each branch gives its most selective
        // list alone and the whole needs one of those.
        std::vector<std::vector<std::string>> clauses {{}};
        for (const auto& b : branches) {
            std::vector<std::vector<std::string>> lists;
            if (b.exact) {
                auto list = asList(b);
                if (!list)
                    return Info::anything();
                lists.push_back(std::move(*list));
            } else {
                if (b.all.empty())
                    return Info::anything();
                lists = b.all;
            }
            if (clauses.size() * lists.size() > kMaxExact) {
                auto best = asList(b);
                // Clauses beyond the bound: keep the first one crossed with this branch's best.
                std::vector<std::string> one = clauses.front();
                one.insert(one.end(), best->begin(), best->end());
                clauses = {std::move(one)};
                continue;
            }
            std::vector<std::vector<std::string>> crossed;
            for (const auto& c : clauses)
                for (const auto& l : lists) {
                    auto both = c;
                    both.insert(both.end(), l.begin(), l.end());
                    crossed.push_back(std::move(both));
                }
            clauses = std::move(crossed);
        }
        Info out;
        out.all = std::move(clauses);
        return out;
    }

    Info concatenation()
    {
        Info out;
        std::vector<std::string> run {""}; // the strings the exact items since the last break make
        bool allExact = true;
        auto flush = [&] {
            bool long_ = true;
            for (const auto& s : run)
                long_ = long_ && s.size() >= m_minAtom;
            if (long_)
                out.all.push_back(std::move(run));
            run = {""};
        };
        while (!atEnd() && peek() != '|' && peek() != ')') {
            // Plain characters not repeated (most of a phrase): onto every string of the run.
            const auto start = m_i;
            while (!atEnd())
                if (const auto len = plainCharacter())
                    m_i += len;
                else
                    break;
            if (m_i > start) {
                for (auto& r : run)
                    r.append(m_p.substr(start, m_i - start));
                continue;
            }
            Info item = repeated();
            if (item.exact && item.strings.size() == 1) {
                for (auto& r : run)
                    r += item.strings.front();
                continue;
            }
            if (item.exact && run.size() * item.strings.size() <= kMaxExact) {
                std::vector<std::string> joined;
                joined.reserve(run.size() * item.strings.size());
                for (const auto& a : run)
                    for (const auto& b : item.strings)
                        joined.push_back(a + b);
                run = std::move(joined);
                continue;
            }
            allExact = false;
            flush();
            if (item.exact)
                run = std::move(item.strings); // at most kMaxExact: every exact Info is
            else
                for (auto& list : item.all)
                    out.all.push_back(std::move(list));
        }
        if (allExact)
            return Info::of(std::move(run));
        flush();
        return out;
    }

    /// The length of the character at m_i when it is a literal that no repetition follows, else 0.
    std::size_t plainCharacter() const
    {
        switch (peek()) {
        case '\\':
        case '[':
        case ']':
        case '(':
        case ')':
        case '{':
        case '}':
        case '.':
        case '*':
        case '+':
        case '?':
        case '|':
        case '^':
        case '$':
            return 0;
        default:
            break;
        }
        const auto len = characterLength();
        if (m_i + len < m_p.size()) {
            const char next = m_p[m_i + len];
            if (next == '*' || next == '+' || next == '?' || next == '{')
                return 0;
        }
        return len;
    }

    /// An item and the repetition after it, if any.
    Info repeated()
    {
        Info item = single();
        if (atEnd())
            return item;
        std::size_t min = 0, max = SIZE_MAX;
        const char c = peek();
        if (c == '*') {
            ++m_i;
        } else if (c == '+') {
            ++m_i;
            min = 1;
        } else if (c == '?') {
            ++m_i;
            max = 1;
        } else if (c == '{') {
            if (!counted(min, max))
                return item; // a '{' that is no repetition is a literal, read as the next item
        } else {
            return item;
        }
        if (!atEnd() && peek() == '?')
            ++m_i; // non-greedy: the same strings
        if (!atEnd() && (peek() == '*' || peek() == '+' || peek() == '?'))
            throw Unfollowed {}; // RE2 refuses a repetition of a repetition
        if (min == 0) {
            if (max == 1 && item.exact && item.strings.size() + 1 <= kMaxExact) {
                item.strings.push_back("");
                sortUnique(item.strings);
                return item;
            }
            return Info::anything();
        }
        if (item.exact && min == max && min <= 4) {
            std::vector<std::string> power {""};
            for (std::size_t k = 0; k < min && power.size() * item.strings.size() <= kMaxExact; ++k) {
                std::vector<std::string> next;
                for (const auto& a : power)
                    for (const auto& b : item.strings)
                        next.push_back(a + b);
                power = std::move(next);
                if (k + 1 == min) {
                    sortUnique(power);
                    return Info::of(std::move(power));
                }
            }
        }
        // At least one copy: what one copy needs.
        Info out;
        if (!item.exact)
            out.all = std::move(item.all);
        else if (auto list = asList(item))
            out.all.push_back(std::move(*list));
        return out;
    }

    /// "{n}", "{n,}", "{n,m}" at m_i: read when it is one, else nothing is consumed.
    bool counted(std::size_t& min, std::size_t& max)
    {
        std::size_t j = m_i + 1;
        auto number = [&](std::size_t& n) {
            const auto start = j;
            n = 0;
            while (j < m_p.size() && m_p[j] >= '0' && m_p[j] <= '9' && j - start < 6)
                n = n * 10 + static_cast<std::size_t>(m_p[j++] - '0');
            return j > start;
        };
        if (!number(min))
            return false;
        max = min;
        if (j < m_p.size() && m_p[j] == ',') {
            ++j;
            if (!number(max))
                max = SIZE_MAX;
        }
        if (j >= m_p.size() || m_p[j] != '}')
            return false;
        m_i = j + 1;
        return true;
    }

    /// The bytes of the UTF-8 character at m_i (a stray continuation byte alone), within the pattern.
    std::size_t characterLength() const
    {
        const auto b = static_cast<unsigned char>(m_p[m_i]);
        const std::size_t len = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
        return std::min(len, m_p.size() - m_i);
    }

    /// One code point of the pattern as written (UTF-8), at m_i.
    std::string codePoint()
    {
        const auto len = characterLength();
        std::string out(m_p.substr(m_i, len));
        m_i += len;
        return out;
    }

    /// An escape after its backslash: a literal's text, or "" for a zero-width assertion; nullopt
    /// for a class ("\S", "\d"). Throws for what is not followed.
    std::optional<std::string> escape(bool inClass)
    {
        if (atEnd())
            throw Unfollowed {};
        const char c = m_p[m_i++];
        switch (c) {
        case 'd':
        case 'D':
        case 's':
        case 'S':
        case 'w':
        case 'W':
            return std::nullopt;
        case 'b':
        case 'B':
        case 'A':
        case 'z':
            if (inClass)
                throw Unfollowed {};
            return std::string();
        case 't':
            return std::string("\t");
        case 'n':
            return std::string("\n");
        case 'r':
            return std::string("\r");
        case 'f':
            return std::string("\f");
        case 'v':
            return std::string("\v");
        case 'a':
            return std::string("\a");
        case 'x': {
            std::uint32_t value = 0;
            auto hex = [&](char h, std::uint32_t& v) {
                if (h >= '0' && h <= '9')
                    v = v * 16 + static_cast<std::uint32_t>(h - '0');
                else if (h >= 'a' && h <= 'f')
                    v = v * 16 + static_cast<std::uint32_t>(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F')
                    v = v * 16 + static_cast<std::uint32_t>(h - 'A' + 10);
                else
                    return false;
                return true;
            };
            if (!atEnd() && peek() == '{') {
                ++m_i;
                std::size_t digits = 0;
                while (!atEnd() && peek() != '}') {
                    if (!hex(m_p[m_i++], value) || ++digits > 6)
                        throw Unfollowed {};
                }
                if (atEnd() || digits == 0)
                    throw Unfollowed {};
                ++m_i;
            } else {
                for (int k = 0; k < 2; ++k)
                    if (atEnd() || !hex(m_p[m_i++], value))
                        throw Unfollowed {};
            }
            if (value > 0x10FFFF)
                throw Unfollowed {};
            std::string out;
            text::appendUtf8(out, value);
            return out;
        }
        default:
            // An escaped punctuation mark stands for itself; any other letter or digit ("\p",
            // "\Q", "\C", "\1") is not followed.
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || static_cast<unsigned char>(c) >= 0x80)
                throw Unfollowed {};
            return std::string(1, c);
        }
    }

    static std::uint32_t decode(std::string_view s)
    {
        const auto b = static_cast<unsigned char>(s[0]);
        if (b < 0x80 || s.size() == 1)
            return b;
        std::uint32_t c = b & (s.size() == 2 ? 0x1Fu : s.size() == 3 ? 0x0Fu : 0x07u);
        for (std::size_t k = 1; k < s.size(); ++k)
            c = (c << 6) | (static_cast<unsigned char>(s[k]) & 0x3Fu);
        return c;
    }

    /// "[…]" at m_i: its characters when it names a few (at most 8), else anything.
    Info characterClass()
    {
        ++m_i; // '['
        bool negated = false;
        if (!atEnd() && peek() == '^') {
            negated = true;
            ++m_i;
        }
        std::vector<std::string> chars;
        bool many = negated;
        bool first = true;
        while (true) {
            if (atEnd())
                throw Unfollowed {};
            if (peek() == ']' && !first)
                break;
            first = false;
            std::optional<std::string> lo;
            if (m_p.substr(m_i, 2) == "[:") {
                const auto end = m_p.find(":]", m_i + 2);
                if (end == std::string_view::npos)
                    throw Unfollowed {};
                m_i = end + 2;
                many = true;
                continue;
            }
            if (peek() == '\\') {
                ++m_i;
                lo = escape(true);
                if (!lo) {
                    many = true;
                    continue;
                }
            } else {
                lo = codePoint();
            }
            if (m_i + 1 < m_p.size() && peek() == '-' && m_p[m_i + 1] != ']') {
                ++m_i;
                std::optional<std::string> hi;
                if (peek() == '\\') {
                    ++m_i;
                    hi = escape(true);
                    if (!hi)
                        throw Unfollowed {};
                } else {
                    hi = codePoint();
                }
                const auto a = decode(*lo), z = decode(*hi);
                if (z < a)
                    throw Unfollowed {};
                if (z - a >= 8) {
                    many = true;
                    continue;
                }
                for (auto c = a; c <= z; ++c) {
                    std::string s;
                    text::appendUtf8(s, c);
                    chars.push_back(std::move(s));
                }
                continue;
            }
            chars.push_back(std::move(*lo));
        }
        ++m_i; // ']'
        if (many || chars.size() > 8)
            return Info::anything();
        sortUnique(chars);
        return Info::of(std::move(chars));
    }

    Info single()
    {
        const char c = peek();
        switch (c) {
        case '(': {
            ++m_i;
            if (!atEnd() && peek() == '?') {
                ++m_i;
                if (m_p.substr(m_i, 2) == "P<" || (!atEnd() && peek() == '<')) {
                    const auto end = m_p.find('>', m_i);
                    if (end == std::string_view::npos)
                        throw Unfollowed {};
                    m_i = end + 1;
                } else {
                    // Flags: m, s and U do not change what literals match; i would.
                    while (!atEnd() && (peek() == 'm' || peek() == 's' || peek() == 'U' || peek() == '-'))
                        ++m_i;
                    if (atEnd())
                        throw Unfollowed {};
                    if (peek() == ')') {
                        ++m_i;
                        return Info::of({""});
                    }
                    if (peek() != ':')
                        throw Unfollowed {};
                    ++m_i;
                }
            }
            Info inner = alternation();
            if (atEnd() || peek() != ')')
                throw Unfollowed {};
            ++m_i;
            return inner;
        }
        case '[':
            return characterClass();
        case '.':
            ++m_i;
            return Info::anything();
        case '^':
        case '$':
            ++m_i;
            return Info::of({""});
        case '\\': {
            ++m_i;
            auto e = escape(false);
            return e ? Info::of({std::move(*e)}) : Info::anything();
        }
        case '*':
        case '+':
        case '?':
            throw Unfollowed {}; // a repetition of nothing: RE2 refuses it
        default:
            return Info::of({codePoint()});
        }
    }

    std::string_view m_p;
    std::size_t m_minAtom;
    std::size_t m_i = 0;
};

} // namespace

Requirement requirementOf(std::string_view pattern, std::size_t minAtom)
{
    try {
        return Reader(pattern, std::max<std::size_t>(1, minAtom)).read();
    } catch (const Unfollowed&) {
        return {};
    }
}

} // namespace bt::prefilter
