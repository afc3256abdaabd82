// SPDX-License-Identifier: MIT
// Files read through zlib's gzread, which decompresses gzip'd data and passes anything else
// through unchanged.
#include "input.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <zlib.h>

namespace bt::detail
{

class InputFile::Buffer : public std::streambuf
{
public:
    explicit Buffer(const std::string& path)
        : m_path(path)
    {
        m_gz = gzopen(path.c_str(), "rb");
        if (!m_gz)
            throw std::runtime_error(path + ": cannot be read");
        gzbuffer(m_gz, kSize);
        m_compressed = isGzip(path);
    }
    ~Buffer() override
    {
        if (m_gz)
            gzclose(m_gz);
    }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    bool compressed() const { return m_compressed; }
    /// Bytes of the file read so far, as of the last refill of the buffer: asking zlib each
    /// time (gzoffset) is a system call, and the importers ask once per record (200 000 lseeks
    /// in a 200 000-row import).
    std::uint64_t consumed() const { return m_offset; }

protected:
    int_type underflow() override
    {
        if (gptr() < egptr())
            return traits_type::to_int_type(*gptr());
        if (!m_error.empty())
            throw std::runtime_error(m_error);
        const int n = gzread(m_gz, m_data, kSize);
        int err = Z_OK;
        const char* msg = gzerror(m_gz, &err);
        // Z_BUF_ERROR: the gzip data ends before its end marker (a file cut off while copied).
        // What was decompressed before the damage is delivered first; the next read throws.
        if (n < 0 || (err != Z_OK && err != Z_STREAM_END))
            m_error = m_path + ": the gzip'd data cannot be read after " + std::to_string(m_delivered + (n > 0 ? n : 0))
                + " bytes (zlib: " + (msg ? msg : "error") + (err == Z_BUF_ERROR ? ", the file is cut off" : "") + ")";
        if (n <= 0) {
            noteOffset();
            if (!m_error.empty())
                throw std::runtime_error(m_error);
            return traits_type::eof();
        }
        m_delivered += static_cast<std::uint64_t>(n);
        noteOffset();
        setg(m_data, m_data, m_data + n);
        return traits_type::to_int_type(*gptr());
    }

    pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override
    {
        // Only telling where we are, and going to a byte from the start (seekpos), are needed.
        if (off == 0 && dir == std::ios_base::cur && (which & std::ios_base::in))
            return pos_type(static_cast<off_type>(m_delivered) - (egptr() - gptr()));
        if (dir == std::ios_base::beg)
            return seekpos(pos_type(off), which);
        return pos_type(off_type(-1));
    }
    pos_type seekpos(pos_type pos, std::ios_base::openmode which) override
    {
        // Rewinding, and going to a byte of the content: a followed log's next line (a real seek
        // in a plain file; in a gzip'd one zlib decompresses up to it).
        const off_type to = off_type(pos);
        if (to < 0 || !(which & std::ios_base::in))
            return pos_type(off_type(-1));
        if (to == 0 ? gzrewind(m_gz) != 0
                    : gzseek(m_gz, static_cast<z_off_t>(to), SEEK_SET) != static_cast<z_off_t>(to))
            return pos_type(off_type(-1));
        m_delivered = static_cast<std::uint64_t>(to);
        noteOffset();
        m_error.clear();
        setg(m_data, m_data, m_data);
        return pos_type(0);
    }

private:
    void noteOffset()
    {
        const auto off = gzoffset(m_gz);
        m_offset = off < 0 ? 0 : static_cast<std::uint64_t>(off);
    }

    static constexpr unsigned kSize = 1 << 16;
    std::string m_path;
    gzFile m_gz = nullptr;
    bool m_compressed = false;
    std::uint64_t m_delivered = 0;
    std::uint64_t m_offset = 0; ///< gzoffset() after the last refill or seek
    std::string m_error; ///< set once the data is found damaged
    char m_data[kSize];
};

InputFile::InputFile(const std::string& path)
    : std::istream(nullptr)
    , m_buf(std::make_unique<Buffer>(path))
{
    rdbuf(m_buf.get());
    // A read error of the buffer (damaged gzip data) reaches the importer as the exception it is.
    exceptions(std::ios_base::badbit);
}

InputFile::~InputFile() = default;

bool InputFile::compressed() const
{
    return m_buf->compressed();
}

std::uint64_t InputFile::consumed() const
{
    return m_buf->consumed();
}

bool isGzip(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    char magic[2] = {0, 0};
    in.read(magic, 2);
    return in.gcount() == 2 && static_cast<unsigned char>(magic[0]) == 0x1f
        && static_cast<unsigned char>(magic[1]) == 0x8b;
}

std::uint64_t contentSize(const std::string& path)
{
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec)
        return 0;
    if (!isGzip(path) || size < 18)
        return size;
    std::ifstream in(path, std::ios::binary);
    in.seekg(-4, std::ios::end);
    unsigned char b[4] = {0, 0, 0, 0};
    in.read(reinterpret_cast<char*>(b), 4);
    const std::uint64_t isize
        = std::uint64_t(b[0]) | std::uint64_t(b[1]) << 8 | std::uint64_t(b[2]) << 16 | std::uint64_t(b[3]) << 24;
    return std::max<std::uint64_t>(isize, size);
}

std::string readHead(const std::string& path, std::size_t n)
{
    // Chunk by chunk, so that what comes before damaged gzip data still counts.
    std::string s;
    try {
        InputFile in(path);
        char chunk[4096];
        while (s.size() < n) {
            in.read(chunk, static_cast<std::streamsize>(std::min(sizeof chunk, n - s.size())));
            s.append(chunk, static_cast<std::size_t>(in.gcount()));
            if (!in)
                break;
        }
    } catch (const std::exception&) {
    }
    return s;
}

} // namespace bt::detail
