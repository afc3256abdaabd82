// SPDX-License-Identifier: MIT
// Filter options as people type them (--filter KEY=VALUE), read in one place for the CLI and the
// window: a value that cannot be read is an error naming it, never a filter silently dropped.
#include "filteroption.h"

#include "fields.h"
#include "text.h"

#include <algorithm>
#include <ctime>

namespace bt
{
namespace
{

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

/// `n` digits at `s[at]`, as a number; -1 when they are not all there.
int digits(std::string_view s, std::size_t at, std::size_t n)
{
    if (at + n > s.size())
        return -1;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (!isDigit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int daysIn(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/// The first run of letters and digits of `name`, text::lower-cased: a provider's short key.
std::string firstWord(std::string_view name)
{
    std::string out;
    for (const char c : name) {
        const bool word = isDigit(c) || (text::lower(c) >= 'a' && text::lower(c) <= 'z');
        if (!word) {
            if (!out.empty())
                break;
            continue;
        }
        out.push_back(text::lower(c));
    }
    return out;
}

/// A basic SMTP reply code: three digits, 200 to 599.
bool replyCode(std::string_view v)
{
    const int code = digits(v, 0, 3);
    return v.size() == 3 && code >= 200 && code <= 599;
}

/// An enhanced status code or its class: "5", "5.7" or "5.7.1".
bool enhancedStatus(std::string_view v)
{
    std::size_t i = 0, parts = 0;
    bool ok = true;
    while (ok && i <= v.size()) {
        std::size_t j = i;
        while (j < v.size() && isDigit(v[j]))
            ++j;
        const std::size_t n = j - i;
        ok = n >= 1 && n <= 3 && (parts > 0 || (n == 1 && (v[i] == '2' || v[i] == '4' || v[i] == '5')));
        ++parts;
        if (j == v.size())
            break;
        ok = ok && v[j] == '.';
        i = j + 1;
    }
    return ok && parts <= 3;
}

template<typename List> std::string joined(const List& values, std::string_view sep = ", ")
{
    // Appended in place: GCC 12 at -O3 warns (-Wrestrict, falsely) on `a + b` temporaries here.
    std::string out;
    for (const auto& v : values) {
        if (!out.empty())
            out += sep;
        out += v;
    }
    return out;
}

} // namespace

const std::vector<std::string_view>& filterOptionKeys()
{
    // In table order, the time bounds last: they qualify what the other keys pick.
    static const std::vector<std::string_view> keys = [] {
        std::vector<std::string_view> out;
        for (const bool time : {false, true})
            for (const Field& f : kFields)
                if ((f.kind == FieldKind::Time) == time)
                    for (const auto o : f.options)
                        if (!o.empty())
                            out.push_back(o);
        return out;
    }();
    return keys;
}

std::string filterOptionHelp()
{
    std::string out;
    for (const bool time : {false, true})
        for (const Field& f : kFields)
            if ((f.kind == FieldKind::Time) == time && !f.optionHelp.empty())
                out += (out.empty() ? "" : ", ") + std::string(f.optionHelp);
    return out;
}

std::optional<std::string> isoTimeUtc(std::string_view v)
{
    // YYYY-MM-DD[THH[:MM[:SS[.fff]]][Z|±HH[:]MM]]: the extended format, as RFC 3339 and the
    // workspace write it. "11/03/2025" is month-first or day-first depending on who wrote it, so
    // only ISO 8601 is read.
    const int year = digits(v, 0, 4), month = digits(v, 5, 2), day = digits(v, 8, 2);
    if (v.size() < 10 || year < 0 || v[4] != '-' || v[7] != '-' || month < 1 || month > 12 || day < 1
        || day > daysIn(year, month))
        return std::nullopt;
    int hour = 0, minute = 0, second = 0, offset = 0; // offset in minutes east of UTC
    std::size_t i = 10;
    if (i < v.size()) {
        if (v[i] != 'T')
            return std::nullopt;
        hour = digits(v, i + 1, 2);
        if (hour < 0 || hour > 23)
            return std::nullopt;
        i += 3;
        if (i < v.size() && v[i] == ':') {
            minute = digits(v, i + 1, 2);
            if (minute < 0 || minute > 59)
                return std::nullopt;
            i += 3;
            if (i < v.size() && v[i] == ':') {
                second = digits(v, i + 1, 2);
                if (second < 0 || second > 60)
                    return std::nullopt;
                i += 3;
                if (i < v.size() && (v[i] == '.' || v[i] == ',')) {
                    ++i; // fractions of a second: the workspace keeps whole seconds
                    const std::size_t start = i;
                    while (i < v.size() && isDigit(v[i]))
                        ++i;
                    if (i == start)
                        return std::nullopt;
                }
            }
        }
        if (i < v.size() && v[i] == 'Z') {
            ++i;
        } else if (i < v.size() && (v[i] == '+' || v[i] == '-')) {
            const int sign = v[i] == '-' ? -1 : 1;
            const int oh = digits(v, i + 1, 2);
            const std::size_t m = i + 3 + (i + 3 < v.size() && v[i + 3] == ':' ? 1 : 0);
            const int om = digits(v, m, 2);
            if (oh < 0 || oh > 23 || om < 0 || om > 59)
                return std::nullopt;
            offset = sign * (oh * 60 + om);
            i = m + 2;
        }
        if (i != v.size())
            return std::nullopt;
    }
    std::tm tm {};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = std::min(second, 59);
    const std::time_t t = timegm(&tm) - static_cast<std::time_t>(offset) * 60;
    std::tm out {};
    gmtime_r(&t, &out);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &out);
    return std::string(buf);
}

bool applyFilterOption(EventFilter& f, std::string_view key, std::string_view value, std::string* error)
{
    key = text::trim(key);
    value = text::trim(value);
    auto bad = [&](const std::string& why) {
        if (error)
            *error = "filter " + std::string(key) + "=" + std::string(value) + ": " + why;
        return false;
    };
    const Field* field = fieldByOption(key);
    if (!field)
        return bad("unknown key (keys: " + joined(filterOptionKeys(), " ") + ")");
    if (value.empty())
        return bad("no value");
    const std::string v = field->lowercase ? text::toLower(value) : std::string(value);
    if (!field->choices.empty() && std::find(field->choices.begin(), field->choices.end(), v) == field->choices.end())
        return bad(std::string(field->badValue));
    switch (field->kind) {
    case FieldKind::Time: {
        const auto t = isoTimeUtc(v);
        if (!t)
            return bad(std::string(field->badValue));
        setValue(f, *field, *t, key == field->options[1] ? 1 : 0);
        return true;
    }
    case FieldKind::Code:
        if (field->match == FieldMatch::Prefix ? !enhancedStatus(v) : !replyCode(v))
            return bad(std::string(field->badValue));
        break;
    case FieldKind::Number:
        if (v.size() > 18 || !std::all_of(v.begin(), v.end(), isDigit))
            return bad("not a number");
        break;
    case FieldKind::Text:
        break;
    }
    setValue(f, *field, v);
    return true;
}

bool applyFilterOption(EventFilter& f, std::string_view option, std::string* error)
{
    const auto eq = option.find('=');
    if (eq == std::string_view::npos || text::trim(option.substr(0, eq)).empty()) {
        if (error)
            *error = "filter " + std::string(option) + ": expected KEY=VALUE (keys: " + joined(filterOptionKeys(), " ")
                + ")";
        return false;
    }
    return applyFilterOption(f, option.substr(0, eq), option.substr(eq + 1), error);
}

std::vector<std::string> filterOptions(const EventFilter& f)
{
    std::vector<std::string> out;
    for (const Field& field : kFields) {
        if (field.options[0].empty())
            continue;
        const auto values = valuesOf(f, field);
        for (std::size_t i = 0; i < values.size(); ++i) {
            // A time field's values are its bounds, each under its own key.
            const std::string_view key = field.kind == FieldKind::Time ? field.options[i] : field.options[0];
            if (!values[i].empty())
                out.push_back(std::string(key) + "=" + values[i]);
        }
    }
    return out;
}

bool resolveProviders(Workspace& ws, EventFilter& f, std::string* error)
{
    if (f.providers.empty())
        return true;
    const std::vector<std::string> present = distinctValues(ws, "provider", 100000);
    std::vector<std::string> resolved;
    for (const std::string& wanted : f.providers) {
        if (wanted == "(none)") {
            resolved.push_back(wanted);
            continue;
        }
        const std::string w = text::toLower(wanted);
        // The name itself in any case first, then the name whose first word (its short key:
        // "microsoft", "gmx", "yahoo") it is; a key shared by several names takes them all.
        std::vector<std::string> hits;
        for (const auto& p : present)
            if (text::toLower(p) == w)
                hits.push_back(p);
        if (hits.empty())
            for (const auto& p : present)
                if (firstWord(p) == w)
                    hits.push_back(p);
        if (hits.empty()) {
            if (error) {
                std::vector<std::string> close;
                for (const auto& p : present)
                    if (text::toLower(p).find(w) != std::string::npos)
                        close.push_back(p);
                std::sort(close.begin(), close.end());
                std::vector<std::string> all(present);
                std::sort(all.begin(), all.end());
                *error = "filter provider=" + wanted + ": no provider of that name in " + ws.path()
                    + (present.empty()      ? std::string(" (it has no providers)")
                           : !close.empty() ? "; did you mean: " + joined(close, " | ") + "?"
                                            : "; its providers: " + joined(all, " | "));
            }
            return false;
        }
        for (auto& h : hits)
            if (std::find(resolved.begin(), resolved.end(), h) == resolved.end())
                resolved.push_back(std::move(h));
    }
    f.providers = std::move(resolved);
    return true;
}

} // namespace bt
