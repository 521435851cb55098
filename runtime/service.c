/* service.c: what every activity service shares: task info and limits. */
#include "service.h"
#include <stdlib.h>
#include <string.h>

/* ../shared/aws/API.md §7 and §11: SWF counts characters; Step Functions
 * counts the output's UTF-8 bytes and wants JSON. */
const struct lw_service_limits lw_swf_limits = {
    .heartbeat_details = 2048, .result = 32768, .result_bytes = false, .result_json = false,
    .reason = 256, .details = 32768,
};
const struct lw_service_limits lw_sfn_limits = {
    .heartbeat_details = 0, .result = 262144, .result_bytes = true, .result_json = true,
    .reason = 256, .details = 32768,
};

void lw_task_info_free(struct lw_task_info *t)
{
    if (!t)
        return;
    free(t->token);
    free(t->input);
    free(t->activity_id);
    free(t->type_name);
    free(t->type_version);
    free(t->workflow_id);
    free(t->run_id);
    free(t->activity_arn);
    memset(t, 0, sizeof *t);
}

void lw_task_info_destroy(struct lw_task_info *t)
{
    lw_task_info_free(t);
    free(t);
}
