// SPDX-License-Identifier: MIT
// DragonFly Mail Agent (dma): its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseDragonfly(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
