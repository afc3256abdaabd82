// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

// How the classifier lowers replies and patterns before its RE2 sets match them
// (core/classifier.cpp). For the core and its tests only.
namespace bt::detail
{

/// A letter in lower case as RE2's case folding pairs it, for the letters the phrases use.
char32_t lowerLetter(char32_t c);
/// s with its letters through lowerLetter appended to out, the same length.
void appendLowered(std::string& out, std::string_view s);
/// Whether loweredPattern keeps p's meaning over lowered text.
bool lowerable(std::string_view p);
/// A case-insensitive pattern as a case-sensitive one over lowered text.
std::string loweredPattern(std::string_view p);

} // namespace bt::detail
