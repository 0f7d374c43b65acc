/*
 * world.c - the names of the job-wide allreduce's messages and outcomes (see world.h).
 */
#include "world.h"

const char *fd_world_kind_name(int kind)
{
	static const char *const names[] = {
	    [FW_START] = "START", [FW_ID] = "ID",     [FW_RESULT] = "RESULT",
	    [FW_ABORT] = "ABORT", [FW_DONE] = "DONE",
	};

	return kind > 0 && kind < FW_KIND_MAX ? names[kind] : "?";
}

const char *fd_world_outcome_name(int outcome)
{
	static const char *const names[] = {
	    [FWO_RAN] = "ran",	       [FWO_NO_GPU] = "no GPU", [FWO_TIMEOUT] = "timed out",
	    [FWO_HUNG] = "hung",       [FWO_NO_ID] = "no id",	[FWO_FAILED] = "failed",
	    [FWO_ABORTED] = "aborted",
	};

	return outcome >= 0 && outcome < FWO_MAX ? names[outcome] : "?";
}
