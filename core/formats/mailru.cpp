// SPDX-License-Identifier: MIT
// Mail.ru: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseMailRu(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
