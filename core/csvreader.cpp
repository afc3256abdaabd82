// SPDX-License-Identifier: MIT
#include "csvreader.h"

#include <csv.h>
#include <deque>

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
    std::string raw;
    std::deque<CsvRow> ready;
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
};

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

CsvReader::CsvReader(std::istream& in, char delimiter)
    : m_impl(std::make_unique<Impl>())
    , m_in(in)
    , m_delim(delimiter)
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
    while (d.ready.empty() && !d.finished) {
        if (!std::getline(m_in, line)) {
            csv_fini(&d.parser, Impl::onField, Impl::onRow, &d);
            d.finished = true;
            if (!d.done.empty()) {
                // The file ended inside a quoted field: the parser closed the record itself.
                CsvRow r {std::move(d.done.front()), d.rowLine, d.rowOffset, std::move(d.raw)};
                d.done.pop_front();
                d.ready.push_back(std::move(r));
                error = "unterminated quoted field at the end of the file";
            }
            break;
        }
        const bool hadNewline = !m_in.eof();
        std::int64_t lineBytes = static_cast<std::int64_t>(line.size()) + (hadNewline ? 1 : 0);
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
        if (d.raw.empty()) {
            d.rowLine = d.line;
            d.rowOffset = d.offset;
        } else {
            d.raw += '\n';
        }
        d.raw += line;
        // Give the parser the line with its newline back, so a quoted newline stays in the field.
        line.push_back('\n');
        csv_parse(&d.parser, line.data(), line.size(), Impl::onField, Impl::onRow, &d);
        d.offset += lineBytes;
        while (!d.done.empty()) {
            d.ready.push_back({std::move(d.done.front()), d.rowLine, d.rowOffset, d.raw});
            d.done.pop_front();
        }
        if (!d.ready.empty())
            d.raw.clear();
    }
    if (d.ready.empty())
        return false;
    row = std::move(d.ready.front());
    d.ready.pop_front();
    if (!row.raw.empty() && row.raw.back() == '\r')
        row.raw.pop_back();
    for (auto& f : row.fields)
        if (!f.empty() && f.back() == '\r')
            f.pop_back();
    return true;
}

} // namespace bt
