// SPDX-License-Identifier: MIT
// A JSON writer that appends to a string, for the lines the CLI prints by the hundred thousand
// (diagnose --json --lines, parse --json). Building an nlohmann::json tree per line and dumping it
// cost about two thirds of a JSON line's time (a tree node and a string copy per key and value);
// this writes the same bytes directly. Output is what nlohmann::json's dump(-1, ' ', false,
// error_handler_t::replace) gives for the same values in the same order — compact, non-ASCII
// kept as UTF-8, control characters escaped, each ill-formed UTF-8 subpart replaced by U+FFFD —
// so scripts that read our output see no change (tests/core/jsonwriter_test.cpp holds the two
// side by side).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bt::json
{

/// Appends `s` as a JSON string, quotes included.
void appendString(std::string& out, std::string_view s);

/// Writes one JSON value into `out`: objects and arrays nest; keys and commas are placed here,
/// so the callers state only what goes where.
class Writer
{
public:
    explicit Writer(std::string& out)
        : m_out(out)
    {
    }

    Writer& beginObject() { return open('{'); }
    Writer& endObject() { return close('}'); }
    Writer& beginArray() { return open('['); }
    Writer& endArray() { return close(']'); }

    /// The next member's name (inside an object).
    Writer& key(std::string_view name)
    {
        comma();
        // Keys are the program's own names ("recipient", "dsn_action" …): when nothing in one
        // needs escaping it is written in one piece, without the escaping scan (a record has 45).
        bool plain = true;
        for (const char c : name)
            plain = plain && c >= 0x20 && c != '"' && c != '\\' && static_cast<unsigned char>(c) < 0x80;
        if (plain) {
            m_out.push_back('"');
            m_out.append(name);
            m_out.append("\":", 2);
        } else {
            appendString(m_out, name);
            m_out.push_back(':');
        }
        m_afterKey = true;
        return *this;
    }
    Writer& value(std::string_view s)
    {
        comma();
        appendString(m_out, s);
        return *this;
    }
    Writer& value(const char* s) { return value(std::string_view(s)); }
    Writer& value(const std::string& s) { return value(std::string_view(s)); }
    Writer& value(bool b)
    {
        comma();
        m_out.append(b ? "true" : "false");
        return *this;
    }
    Writer& value(std::int64_t n);
    Writer& value(int n) { return value(static_cast<std::int64_t>(n)); }
    Writer& value(std::size_t n) { return value(static_cast<std::int64_t>(n)); }
    Writer& null()
    {
        comma();
        m_out.append("null");
        return *this;
    }
    /// A string, or null when it is empty (the CLI's convention for "not known").
    Writer& nullable(std::string_view s) { return s.empty() ? null() : value(s); }
    /// An array of strings.
    Writer& strings(const std::vector<std::string>& list)
    {
        beginArray();
        for (const auto& s : list)
            value(s);
        return endArray();
    }

private:
    Writer& open(char c)
    {
        comma();
        m_out.push_back(c);
        m_first.push_back(true);
        return *this;
    }
    Writer& close(char c)
    {
        m_out.push_back(c);
        if (!m_first.empty())
            m_first.pop_back();
        return *this;
    }
    /// A comma before every element of an array or object but the first; none after a key.
    void comma()
    {
        if (m_afterKey) {
            m_afterKey = false;
            return;
        }
        if (m_first.empty())
            return;
        if (!m_first.back())
            m_out.push_back(',');
        m_first.back() = false;
    }

    std::string& m_out;
    std::vector<bool> m_first; ///< per open object/array: nothing written in it yet
    bool m_afterKey = false;
};

} // namespace bt::json
