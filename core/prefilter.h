// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bt::prefilter
{

/// What a text must hold for a pattern to match in it: for every list in `all`, at least one of
/// its strings, as a substring. Empty when nothing is known (the pattern may match anywhere).
/// The idea is RE2's own prefilter (FilteredRE2), whose atoms Debian's RE2 does not give per
/// pattern as a tree: a language's phrases are compiled only when a reply holds what one of them
/// needs (core/classifier.cpp), without changing what matches.
struct Requirement {
    std::vector<std::vector<std::string>> all;
    bool empty() const { return all.empty(); }
};

/// The requirement of an RE2 pattern compiled case-sensitively, in UTF-8 (the lowered phrases):
/// literals, groups, alternations, classes of a few characters and repetitions are followed;
/// any other construct ("\S", ".", "[^…]", a class of many characters) only ends a literal run,
/// and syntax this reader does not know ("\p", "(?i)", "\Q…\E", a back-reference) gives an empty
/// requirement for the whole pattern. Strings shorter than `minAtom` bytes are dropped (they
/// would be in nearly every text): a dropped list only weakens the requirement.
Requirement requirementOf(std::string_view pattern, std::size_t minAtom = 3);

} // namespace bt::prefilter
