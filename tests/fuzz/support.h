// SPDX-License-Identifier: MIT
// What several fuzz entries share: a scratch folder for the inputs that the code under test
// reads from a file, and the classifier of the shipped knowledge (built once per process).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace bt
{
class Classifier;
}

namespace bt::fuzz
{

/// This process's scratch folder (created on first use under $TMPDIR, removed at exit).
const std::filesystem::path& scratchDir();
/// Writes `bytes` to scratchDir()/name and returns its path.
std::string scratchFile(std::string_view name, std::string_view bytes);
/// A classifier of the shipped knowledge, built once: building it per input would cost more than
/// the input.
const Classifier& shippedClassifier();

} // namespace bt::fuzz
