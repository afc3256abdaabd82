// SPDX-License-Identifier: MIT
#include "support.h"

#include "entries.h"

#include <cstdlib>
#include <fstream>
#include <system_error>

namespace bt::fuzz
{

namespace
{

struct Scratch {
    std::filesystem::path dir;
    Scratch()
    {
        std::error_code ec;
        const auto base = std::filesystem::temp_directory_path(ec);
        std::string pattern = ((ec ? std::filesystem::path("/tmp") : base) / "bt-fuzz-XXXXXX").string();
        if (!mkdtemp(pattern.data()))
            fail("cannot create a scratch folder " + pattern);
        dir = pattern;
    }
    ~Scratch()
    {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

} // namespace

const std::filesystem::path& scratchDir()
{
    static const Scratch scratch;
    return scratch.dir;
}

std::string scratchFile(std::string_view name, std::string_view bytes)
{
    const auto path = (scratchDir() / name).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush())
        fail("cannot write " + path);
    return path;
}

} // namespace bt::fuzz
