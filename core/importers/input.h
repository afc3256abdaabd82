// SPDX-License-Identifier: MIT
// How the importers read a file: through zlib, so that a rotated, gzip'd log or export
// (mail.log.2.gz) is read, sniffed and imported like the plain file it holds. Internal to the
// core.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <streambuf>
#include <string>

namespace bt::detail
{

/// A file as a stream of its content: gzip'd data decompressed (several members one after the
/// other too, as `cat a.gz b.gz` makes), anything else read as it is (zlib's transparent mode).
/// Damaged or cut-off gzip data throws std::runtime_error naming the file and zlib's words while
/// reading, so an import fails with the reason instead of ending early without a word.
class InputFile : public std::istream
{
public:
    /// Throws std::runtime_error when the file cannot be opened.
    explicit InputFile(const std::string& path);
    ~InputFile() override;
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    /// True when the file is gzip'd.
    bool compressed() const;
    /// Bytes of the file (compressed bytes for a gzip'd file) consumed so far: progress is
    /// measured against the file's size.
    std::uint64_t consumed() const;

private:
    class Buffer;
    std::unique_ptr<Buffer> m_buf;
};

/// True when the file starts with the gzip magic bytes.
bool isGzip(const std::string& path);

/// The size of a file's content: a gzip'd file's from its trailer (ISIZE, the size modulo 4 GiB of
/// the last member), never taken below the compressed size; a plain file's size. An estimate
/// for choosing how to write, not a count.
std::uint64_t contentSize(const std::string& path);

/// The first `n` bytes of a file's content (decompressed when gzip'd); empty when unreadable.
std::string readHead(const std::string& path, std::size_t n);

} // namespace bt::detail
