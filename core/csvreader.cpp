// SPDX-License-Identifier: MIT
#include "csvreader.h"

#include <algorithm>
#include <csv.h>
#include <deque>
#include <utility>

namespace bt
{

struct CsvReader::Impl {
    csv_parser parser {};
    std::vector<std::string> current;
    std::deque<std::vector<std::string>> done;
    std::int64_t line = 0;
    std::int64_t offset = 0;
    std::int64_t rowLine = 1;
    std::int64_t rowOffset = 0;
    std::size_t headerFields = 0; ///< fields of the first record
    std::string raw;
    std::deque<std::pair<CsvRow, std::string>> ready; ///< records with their error, if any
    bool finished = false;
    bool first = true;

    static void onField(void* data, std::size_t len, void* self)
    {
        auto* d = static_cast<Impl*>(self);
        d->current.emplace_back(data ? static_cast<const char*>(data) : "", data ? len : 0);
    }
    static void onRow(int, void* self)
    {
        auto* d = static_cast<Impl*>(self);
        d->done.push_back(std::move(d->current));
        d->current.clear();
    }
    Impl(std::istream& in, std::size_t maxRecord)
        : lines(in, maxRecord)
    {
    }
    LineReader lines;
};

namespace
{

void countField(void*, std::size_t, void* self)
{
    ++static_cast<std::pair<int, int>*>(self)->first;
}

void countRow(int, void* self)
{
    ++static_cast<std::pair<int, int>*>(self)->second;
}

/// True when `line` alone is one well-formed record of `fields` fields: strictly parsed (no
/// stray quote inside an unquoted field, every quote closed).
bool looksLikeRecord(const std::string& line, std::size_t fields, char delim)
{
    csv_parser p {};
    csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
    csv_set_delim(&p, static_cast<unsigned char>(delim));
    std::pair<int, int> counts {0, 0}; // fields, rows
    const std::string text = line + '\n';
    const bool parsed = csv_parse(&p, text.data(), text.size(), countField, countRow, &counts) == text.size();
    const bool closed = csv_fini(&p, countField, countRow, &counts) == 0;
    csv_free(&p);
    return parsed && closed && counts.second == 1 && static_cast<std::size_t>(counts.first) == fields;
}

} // namespace

bool LineReader::next(std::string& line, std::int64_t& bytes)
{
    line.clear();
    m_cut = false;
    auto keep = [&](const char* p, std::size_t n) {
        const std::size_t room = m_max - line.size();
        if (n > room) {
            m_cut = true;
            n = room;
        }
        line.append(p, n);
    };
    if (m_end == 0) {
        // Until the first line break: byte by byte, to see which one the file uses.
        std::streambuf* sb = m_in.rdbuf();
        std::int64_t taken = 0;
        for (;;) {
            const auto c = sb->sbumpc();
            if (c == std::char_traits<char>::eof()) {
                bytes = taken;
                m_in.setstate(std::ios_base::eofbit);
                return taken > 0;
            }
            if (c == '\n') {
                m_end = '\n';
                bytes = taken + 1;
                if (!m_cut && !line.empty() && line.back() == '\r')
                    line.pop_back();
                return true;
            }
            if (c == '\r') {
                bytes = taken + 1;
                if (sb->sgetc() == '\n') {
                    sb->sbumpc();
                    ++bytes;
                    m_end = '\n';
                } else {
                    m_end = '\r';
                }
                return true;
            }
            ++taken;
            const char ch = static_cast<char>(c);
            keep(&ch, 1);
        }
    }
    // Then in pieces of a bounded buffer: istream::getline stops at the line's end or when the
    // buffer is full (failbit, the line goes on), so a line is never held longer than m_max.
    constexpr std::size_t kChunk = 64 * 1024;
    m_chunk.resize(kChunk);
    std::int64_t taken = 0;
    for (;;) {
        m_in.getline(m_chunk.data(), static_cast<std::streamsize>(kChunk), m_end);
        const auto got = static_cast<std::size_t>(m_in.gcount());
        taken += static_cast<std::int64_t>(got);
        if (m_in.fail() && !m_in.eof() && got == kChunk - 1) {
            keep(m_chunk.data(), got); // a full buffer: the line goes on
            m_in.clear();
            continue;
        }
        if (m_in.eof()) {
            keep(m_chunk.data(), got); // the last line, without a line end
            if (taken == 0)
                return false;
            break;
        }
        if (m_in.fail())
            return false;
        keep(m_chunk.data(), got - 1); // the line end is counted, not kept
        break;
    }
    bytes = taken;
    if (m_end == '\n' && !m_cut && !line.empty() && line.back() == '\r')
        line.pop_back();
    return true;
}

std::string byteSize(std::uint64_t bytes)
{
    if (bytes < 10 * 1024)
        return std::to_string(bytes) + " bytes";
    const bool mb = bytes >= 1024 * 1024;
    const auto tenths = bytes * 10 / (mb ? 1024 * 1024 : 1024);
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + (mb ? " MB" : " KB");
}

char detectDelimiter(const std::string& header)
{
    int comma = 0, semi = 0, tab = 0;
    bool quoted = false;
    for (char c : header) {
        if (c == '"')
            quoted = !quoted;
        else if (!quoted)
            comma += c == ',', semi += c == ';', tab += c == '\t';
    }
    if (tab > comma && tab >= semi)
        return '\t';
    if (semi > comma)
        return ';';
    return ',';
}

CsvReader::CsvReader(std::istream& in, char delimiter, std::size_t maxRecord)
    : m_impl(std::make_unique<Impl>(in, maxRecord))
    , m_delim(delimiter)
    , m_maxRecord(maxRecord)
{
    csv_init(&m_impl->parser, CSV_APPEND_NULL);
}

CsvReader::~CsvReader()
{
    csv_free(&m_impl->parser);
}

bool CsvReader::next(CsvRow& row, std::string& error)
{
    auto& d = *m_impl;
    error.clear();
    std::string line;
    auto spanOf = [&](std::int64_t last) {
        return last > d.rowLine ? "lines " + std::to_string(d.rowLine) + "-" + std::to_string(last)
                                : "line " + std::to_string(d.rowLine);
    };
    while (d.ready.empty() && !d.finished) {
        std::int64_t lineBytes = 0;
        if (!d.lines.next(line, lineBytes)) {
            csv_fini(&d.parser, Impl::onField, Impl::onRow, &d);
            d.finished = true;
            if (!d.done.empty()) {
                // The file ended inside a quoted field: the parser closed the record itself.
                CsvRow r {std::move(d.done.front()), d.rowLine, d.rowOffset, std::move(d.raw)};
                d.done.pop_front();
                const std::string why = "a quoted field opened on line " + std::to_string(d.rowLine)
                    + " is not closed by the end of the file (the record takes " + spanOf(d.line) + ")";
                d.ready.emplace_back(std::move(r), why);
            }
            break;
        }
        if (d.first) {
            if (d.line == 0 && line.rfind("\xEF\xBB\xBF", 0) == 0) {
                line.erase(0, 3);
                d.offset += 3;
                lineBytes -= 3;
                d.rowOffset = d.offset;
            }
            // PowerShell's Export-Csv (Windows PowerShell 5) writes "#TYPE <class>" before the
            // header unless told not to: a note about the objects, not a record or the header.
            if (line.rfind("#TYPE ", 0) == 0) {
                ++d.line;
                d.offset += lineBytes;
                continue;
            }
            d.first = false;
            if (m_delim == 0)
                m_delim = detectDelimiter(line);
            csv_set_delim(&d.parser, static_cast<unsigned char>(m_delim));
        }
        ++d.line;
        const bool blank = line.find_first_not_of(" \t\r") == std::string::npos;
        if (d.raw.empty() && blank) {
            d.offset += lineBytes; // a blank line between records is not a record
            continue;
        }
        if (d.lines.cut() || d.raw.size() + line.size() > m_maxRecord) {
            // Too long to hold: the record is given back without its fields and only the start of its
            // text, the rest of this line was read past, and the next line starts afresh.
            if (d.raw.empty()) {
                d.rowLine = d.line;
                d.rowOffset = d.offset;
            }
            const auto size = static_cast<std::uint64_t>(d.offset + lineBytes - d.rowOffset);
            std::string start = d.raw.empty() ? std::move(line) : std::move(d.raw);
            start.resize(std::min<std::size_t>(start.size(), 200));
            const std::string why = "the record (" + spanOf(d.line) + ") takes " + byteSize(size) + ", more than the "
                + byteSize(m_maxRecord) + " a record may: left out unread";
            d.ready.emplace_back(CsvRow {{}, d.rowLine, d.rowOffset, std::move(start)}, why);
            csv_free(&d.parser);
            csv_init(&d.parser, CSV_APPEND_NULL);
            csv_set_delim(&d.parser, static_cast<unsigned char>(m_delim));
            d.current.clear();
            d.done.clear();
            d.raw.clear();
            d.offset += lineBytes;
            continue;
        }
        if (!d.raw.empty() && d.headerFields >= 2 && looksLikeRecord(line, d.headerFields, m_delim)) {
            // Inside a quoted field, a line that is a record of its own: the quote was never
            // closed. The open record goes back alone, rejected, and this line starts afresh.
            csv_free(&d.parser);
            csv_init(&d.parser, CSV_APPEND_NULL);
            csv_set_delim(&d.parser, static_cast<unsigned char>(m_delim));
            const std::string why = "a quoted field opened on line " + std::to_string(d.rowLine)
                + " is not closed before line " + std::to_string(d.line)
                + ", which reads as a record of its own: the record (" + spanOf(d.line - 1)
                + ") is rejected and reading goes on at line " + std::to_string(d.line);
            d.ready.emplace_back(CsvRow {std::move(d.current), d.rowLine, d.rowOffset, std::move(d.raw)}, why);
            d.current.clear();
            d.raw.clear();
        }
        if (d.raw.empty()) {
            d.rowLine = d.line;
            d.rowOffset = d.offset;
        } else {
            d.raw += '\n';
        }
        d.raw += line;
        // Give the parser the line with a newline back, so a quoted newline stays in the field.
        line.push_back('\n');
        csv_parse(&d.parser, line.data(), line.size(), Impl::onField, Impl::onRow, &d);
        d.offset += lineBytes;
        const bool completed = !d.done.empty();
        while (!d.done.empty()) {
            if (d.headerFields == 0)
                d.headerFields = d.done.front().size();
            d.ready.emplace_back(CsvRow {std::move(d.done.front()), d.rowLine, d.rowOffset, d.raw}, std::string());
            d.done.pop_front();
        }
        if (completed)
            d.raw.clear();
    }
    if (d.ready.empty())
        return false;
    row = std::move(d.ready.front().first);
    error = std::move(d.ready.front().second);
    d.ready.pop_front();
    if (!row.raw.empty() && row.raw.back() == '\r')
        row.raw.pop_back();
    for (auto& f : row.fields)
        if (!f.empty() && f.back() == '\r')
            f.pop_back();
    return true;
}

} // namespace bt
