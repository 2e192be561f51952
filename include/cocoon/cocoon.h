/* cocoon: confidential containers for Kubernetes. Umbrella header. */
#ifndef COCOON_H
#define COCOON_H
#include "common.h"
#include "verify.h"
#include "dcap.h"
#endif
