/* cocoon: confidential containers for Kubernetes. Umbrella header. */
#ifndef COCOON_H
#define COCOON_H
#include "common.h"
#include "verify.h"
#include "dcap.h"
#include "snp.h"
#include "evidence.h"
#include "policy.h"
#include "sim.h"
#include "run.h"
#include "oci.h"
#include "vtpm.h"
#include "attest.h"
#include "ratls.h"
#endif
