/* Internal side of the simulation directory. */
#ifndef COCOON_SIM_SIM_DIR_H
#define COCOON_SIM_SIM_DIR_H

#include "sim/dcap_sim.h"

int cocoon_sim_pki_save(const cocoon_sim_pki *p, const char *dir);
/* Loads DIR's Intel-shaped PKI (certificates, keys, CRLs). */
int cocoon_sim_pki_load(cocoon_sim_pki **out, const char *dir);
/* TCB info v3 (SGX or TDX) giving the simulated platform `status`. */
int cocoon_sim_tcb_info_json(char **out, const cocoon_sim_pki *p, int tdx, const char *status, time_t issue,
                             time_t next);
/* QE identity v2 ("QE" or "TD_QE") matching the simulated QE. */
int cocoon_sim_qe_identity_json(char **out, int tdx, time_t issue, time_t next);

#endif
