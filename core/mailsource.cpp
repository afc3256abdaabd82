// SPDX-License-Identifier: MIT
// mbox splitting is done here rather than by GMime's mbox parser because the workspace keeps
// each message's raw bytes and byte offset, which GMime's parsed objects do not give back.
#include "mailsource.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <vector>

namespace bt
{
namespace
{

bool isFromLine(std::string_view line)
{
    return line.starts_with("From ");
}

/// mboxrd: ">From " and ">>From " lose one ">" when read back.
std::string_view unquote(std::string_view line)
{
    std::size_t n = 0;
    while (n < line.size() && line[n] == '>')
        ++n;
    if (n > 0 && line.substr(n).starts_with("From "))
        line.remove_prefix(1);
    return line;
}

/// Lines of a stream read in blocks of 1 MB (memchr for the line ends), not a getline and a
/// copy per line: reading an mbox is the one serial step of a parallel parse.
class LineReader
{
public:
    /// `asItComes`: a pipe (standard input) is read a line at a time, so a co-process that
    /// writes a message and waits for its answer is never kept waiting for a block to fill.
    /// `sizeHint`: the size of a regular file, if known. Its first block is that size (and a
    /// byte to see the end) rather than 1 MB: a block is zero-filled before it is read into, and
    /// clearing 1 MB for every few-kB .eml of a folder was a fifth of `parse`'s instructions.
    LineReader(std::istream& in, bool asItComes, std::size_t sizeHint = 0)
        : m_in(in)
        , m_asItComes(asItComes)
        , m_block(sizeHint > 0 && sizeHint < kBlock ? sizeHint + 1 : kBlock)
    {
    }
    /// The next line without its "\n" (valid until the next call); `ended`: a "\n" ended it (the
    /// last line of a stream may have none). False at the end of the stream.
    bool next(std::string_view& line, bool& ended)
    {
        for (;;) {
            const char* start = m_buf.data() + m_pos;
            const std::size_t have = m_len - m_pos;
            if (const void* nl = std::memchr(start, '\n', have)) {
                const auto n = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
                line = std::string_view(start, n);
                ended = true;
                m_pos += n + 1;
                return true;
            }
            if (m_eof) {
                if (have == 0)
                    return false;
                line = std::string_view(start, have);
                ended = false;
                m_pos = m_len;
                return true;
            }
            fill();
        }
    }
    /// Everything not read yet, appended to `out`.
    void appendRest(std::string& out)
    {
        out.append(m_buf.data() + m_pos, m_len - m_pos);
        m_pos = m_len;
        while (!m_eof) {
            fill();
            out.append(m_buf.data() + m_pos, m_len - m_pos);
            m_pos = m_len;
        }
    }
    bool bad() const { return m_in.bad(); }

private:
    void fill()
    {
        // Keep the partial line, read the next block behind it.
        if (m_pos > 0) {
            std::memmove(m_buf.data(), m_buf.data() + m_pos, m_len - m_pos);
            m_len -= m_pos;
            m_pos = 0;
        }
        if (m_asItComes) {
            std::string line;
            if (std::getline(m_in, line)) {
                if (!m_in.eof())
                    line += '\n';
                m_buf.resize(m_len);
                m_buf += line;
                m_len = m_buf.size();
            }
            if (!m_in)
                m_eof = true;
            return;
        }
        if (m_buf.size() - m_len < m_block)
            m_buf.resize(m_len + m_block);
        m_in.read(m_buf.data() + m_len, static_cast<std::streamsize>(m_block));
        m_block = kBlock; // a file that grew since its size was taken: whole blocks from here
        const auto got = m_in.gcount();
        m_len += static_cast<std::size_t>(got);
        if (got <= 0 || !m_in)
            m_eof = true;
    }
    static constexpr std::size_t kBlock = 1 << 20;
    std::istream& m_in;
    bool m_asItComes;
    std::size_t m_block;
    std::string m_buf;
    std::size_t m_pos = 0, m_len = 0;
    bool m_eof = false;
};

/// The messages of one stream: an mbox when its first line is a "From " envelope line (one
/// message or many), else the whole stream as one message. Reads block by block, so neither a
/// 2 GB mbox nor a pipe that never ends sits in memory.
bool readStream(std::istream& in, bool asItComes, const std::string& name,
                const std::function<bool(SourceMessage&&)>& visit,
                const std::function<void(const std::string&, const std::string&)>& onError, std::size_t sizeHint = 0)
{
    LineReader reader(in, asItComes, sizeHint);
    std::string_view line;
    bool ended = false;
    if (!reader.next(line, ended)) {
        if (reader.bad()) {
            onError(name, "read error");
            return true;
        }
        SourceMessage empty; // the reader says what an empty message is
        empty.path = name;
        return visit(std::move(empty));
    }
    if (!isFromLine(line)) {
        SourceMessage m;
        m.path = name;
        m.bytes = line;
        if (ended) {
            m.bytes += '\n';
            reader.appendRest(m.bytes);
        }
        if (reader.bad()) {
            onError(name, "read error");
            return true;
        }
        return visit(std::move(m));
    }
    SourceMessage current;
    current.path = name;
    bool started = false;
    bool previousBlank = true;
    std::uint64_t offset = 0;
    std::size_t index = 0;
    bool first = true;
    while (first || reader.next(line, ended)) {
        first = false;
        const std::uint64_t lineOffset = offset;
        offset += line.size() + (ended ? 1 : 0);
        std::string_view bare = line;
        if (!bare.empty() && bare.back() == '\r')
            bare.remove_suffix(1);
        if (isFromLine(bare) && previousBlank) {
            if (started) {
                if (!visit(std::move(current)))
                    return false;
                current = SourceMessage {};
                current.path = name;
            }
            started = true;
            current.index = index++;
            current.offset = lineOffset;
            current.bytes.assign(line); // keep the envelope line; parseEmail skips it
            current.bytes += '\n';
            previousBlank = false;
            continue;
        }
        previousBlank = bare.empty();
        current.bytes += unquote(line);
        current.bytes += '\n';
    }
    if (reader.bad()) {
        onError(name, "read error after byte " + std::to_string(offset));
        return true;
    }
    if (started)
        return visit(std::move(current));
    return true;
}

bool readFile(const std::filesystem::path& path, const std::function<bool(SourceMessage&&)>& visit,
              const std::function<void(const std::string&, const std::string&)>& onError)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        onError(path.string(), "cannot be read");
        return true;
    }
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    return readStream(in, false, path.string(), visit, onError, ec ? 0 : static_cast<std::size_t>(size));
}

} // namespace

void forEachMessage(const std::filesystem::path& path, const std::function<bool(SourceMessage&&)>& visit,
                    const std::function<void(const std::string& path, const std::string& error)>& onError)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        std::vector<std::filesystem::path> files;
        for (auto it = std::filesystem::recursive_directory_iterator(
                 path, std::filesystem::directory_options::skip_permission_denied, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            if (it->is_regular_file(ec))
                files.push_back(it->path());
        }
        if (ec)
            onError(path.string(), "cannot list the folder: " + ec.message());
        std::sort(files.begin(), files.end());
        for (const auto& f : files)
            if (!readFile(f, visit, onError))
                return;
        return;
    }
    if (path == "-") {
        readStream(std::cin, true, "-", visit, onError);
        return;
    }
    if (!std::filesystem::exists(path, ec)) {
        onError(path.string(), "no such file or folder");
        return;
    }
    readFile(path, visit, onError);
}

} // namespace bt
