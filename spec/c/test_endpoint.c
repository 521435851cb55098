/* test_endpoint.c: region and endpoint resolution (runtime/endpoint.c).
 * The default-endpoint table was computed with botocore 1.43.11's
 * EndpointProvider over the swf and stepfunctions rule sets and its
 * partitions.json; the precedence cases follow its ConfiguredEndpointProvider
 * (checked against botocore with the same environment and config). */
#include "endpoint.h"
#include "t.h"
#include <stdlib.h>
#include <string.h>

static struct lw_error err;

static struct lw_ini *cfg(const char *text)
{
    struct lw_ini *ini = NULL;
    if (lw_ini_parse(text, strlen(text), "config", &ini, &err) != 0)
        fprintf(stderr, "  config parse error: %s\n", err.message);
    return ini;
}

struct vector {
    enum lw_aws_service svc;
    const char *region;
    int fips, dual;
    const char *url;
};

static const struct vector vectors[] = {
    { LW_SERVICE_SWF, "us-east-1", 0, 0, "https://swf.us-east-1.amazonaws.com" },
    { LW_SERVICE_SWF, "us-east-1", 0, 1, "https://swf.us-east-1.api.aws" },
    { LW_SERVICE_SWF, "us-east-1", 1, 0, "https://swf-fips.us-east-1.amazonaws.com" },
    { LW_SERVICE_SWF, "us-east-1", 1, 1, "https://swf-fips.us-east-1.api.aws" },
    { LW_SERVICE_SWF, "eu-west-1", 0, 0, "https://swf.eu-west-1.amazonaws.com" },
    { LW_SERVICE_SWF, "eu-west-1", 0, 1, "https://swf.eu-west-1.api.aws" },
    { LW_SERVICE_SWF, "eu-west-1", 1, 0, "https://swf-fips.eu-west-1.amazonaws.com" },
    { LW_SERVICE_SWF, "eu-west-1", 1, 1, "https://swf-fips.eu-west-1.api.aws" },
    { LW_SERVICE_SWF, "ap-southeast-7", 0, 0, "https://swf.ap-southeast-7.amazonaws.com" },
    { LW_SERVICE_SWF, "ap-southeast-7", 0, 1, "https://swf.ap-southeast-7.api.aws" },
    { LW_SERVICE_SWF, "ap-southeast-7", 1, 0, "https://swf-fips.ap-southeast-7.amazonaws.com" },
    { LW_SERVICE_SWF, "ap-southeast-7", 1, 1, "https://swf-fips.ap-southeast-7.api.aws" },
    { LW_SERVICE_SWF, "mx-central-1", 0, 0, "https://swf.mx-central-1.amazonaws.com" },
    { LW_SERVICE_SWF, "mx-central-1", 0, 1, "https://swf.mx-central-1.api.aws" },
    { LW_SERVICE_SWF, "mx-central-1", 1, 0, "https://swf-fips.mx-central-1.amazonaws.com" },
    { LW_SERVICE_SWF, "mx-central-1", 1, 1, "https://swf-fips.mx-central-1.api.aws" },
    { LW_SERVICE_SWF, "il-central-1", 0, 0, "https://swf.il-central-1.amazonaws.com" },
    { LW_SERVICE_SWF, "il-central-1", 0, 1, "https://swf.il-central-1.api.aws" },
    { LW_SERVICE_SWF, "il-central-1", 1, 0, "https://swf-fips.il-central-1.amazonaws.com" },
    { LW_SERVICE_SWF, "il-central-1", 1, 1, "https://swf-fips.il-central-1.api.aws" },
    { LW_SERVICE_SWF, "ca-west-1", 0, 0, "https://swf.ca-west-1.amazonaws.com" },
    { LW_SERVICE_SWF, "ca-west-1", 0, 1, "https://swf.ca-west-1.api.aws" },
    { LW_SERVICE_SWF, "ca-west-1", 1, 0, "https://swf-fips.ca-west-1.amazonaws.com" },
    { LW_SERVICE_SWF, "ca-west-1", 1, 1, "https://swf-fips.ca-west-1.api.aws" },
    { LW_SERVICE_SWF, "sa-east-1", 0, 0, "https://swf.sa-east-1.amazonaws.com" },
    { LW_SERVICE_SWF, "sa-east-1", 0, 1, "https://swf.sa-east-1.api.aws" },
    { LW_SERVICE_SWF, "sa-east-1", 1, 0, "https://swf-fips.sa-east-1.amazonaws.com" },
    { LW_SERVICE_SWF, "sa-east-1", 1, 1, "https://swf-fips.sa-east-1.api.aws" },
    { LW_SERVICE_SWF, "me-central-1", 0, 0, "https://swf.me-central-1.amazonaws.com" },
    { LW_SERVICE_SWF, "me-central-1", 0, 1, "https://swf.me-central-1.api.aws" },
    { LW_SERVICE_SWF, "me-central-1", 1, 0, "https://swf-fips.me-central-1.amazonaws.com" },
    { LW_SERVICE_SWF, "me-central-1", 1, 1, "https://swf-fips.me-central-1.api.aws" },
    { LW_SERVICE_SWF, "af-south-1", 0, 0, "https://swf.af-south-1.amazonaws.com" },
    { LW_SERVICE_SWF, "af-south-1", 0, 1, "https://swf.af-south-1.api.aws" },
    { LW_SERVICE_SWF, "af-south-1", 1, 0, "https://swf-fips.af-south-1.amazonaws.com" },
    { LW_SERVICE_SWF, "af-south-1", 1, 1, "https://swf-fips.af-south-1.api.aws" },
    { LW_SERVICE_SWF, "cn-north-1", 0, 0, "https://swf.cn-north-1.amazonaws.com.cn" },
    { LW_SERVICE_SWF, "cn-north-1", 0, 1, "https://swf.cn-north-1.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SWF, "cn-north-1", 1, 0, "https://swf-fips.cn-north-1.amazonaws.com.cn" },
    { LW_SERVICE_SWF, "cn-north-1", 1, 1, "https://swf-fips.cn-north-1.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SWF, "cn-northwest-1", 0, 0, "https://swf.cn-northwest-1.amazonaws.com.cn" },
    { LW_SERVICE_SWF, "cn-northwest-1", 0, 1, "https://swf.cn-northwest-1.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SWF, "cn-northwest-1", 1, 0, "https://swf-fips.cn-northwest-1.amazonaws.com.cn" },
    { LW_SERVICE_SWF, "cn-northwest-1", 1, 1, "https://swf-fips.cn-northwest-1.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SWF, "us-gov-west-1", 0, 0, "https://swf.us-gov-west-1.amazonaws.com" },
    { LW_SERVICE_SWF, "us-gov-west-1", 0, 1, "https://swf-fips.us-gov-west-1.api.aws" },
    { LW_SERVICE_SWF, "us-gov-west-1", 1, 0, "https://swf.us-gov-west-1.amazonaws.com" },
    { LW_SERVICE_SWF, "us-gov-west-1", 1, 1, "https://swf-fips.us-gov-west-1.api.aws" },
    { LW_SERVICE_SWF, "us-gov-east-1", 0, 0, "https://swf.us-gov-east-1.amazonaws.com" },
    { LW_SERVICE_SWF, "us-gov-east-1", 0, 1, "https://swf-fips.us-gov-east-1.api.aws" },
    { LW_SERVICE_SWF, "us-gov-east-1", 1, 0, "https://swf.us-gov-east-1.amazonaws.com" },
    { LW_SERVICE_SWF, "us-gov-east-1", 1, 1, "https://swf-fips.us-gov-east-1.api.aws" },
    { LW_SERVICE_SWF, "us-iso-east-1", 0, 0, "https://swf.us-iso-east-1.c2s.ic.gov" },
    { LW_SERVICE_SWF, "us-iso-east-1", 0, 1, "https://swf.us-iso-east-1.api.aws.ic.gov" },
    { LW_SERVICE_SWF, "us-iso-east-1", 1, 0, "https://swf-fips.us-iso-east-1.c2s.ic.gov" },
    { LW_SERVICE_SWF, "us-iso-east-1", 1, 1, "https://swf-fips.us-iso-east-1.api.aws.ic.gov" },
    { LW_SERVICE_SWF, "us-iso-west-1", 0, 0, "https://swf.us-iso-west-1.c2s.ic.gov" },
    { LW_SERVICE_SWF, "us-iso-west-1", 0, 1, "https://swf.us-iso-west-1.api.aws.ic.gov" },
    { LW_SERVICE_SWF, "us-iso-west-1", 1, 0, "https://swf-fips.us-iso-west-1.c2s.ic.gov" },
    { LW_SERVICE_SWF, "us-iso-west-1", 1, 1, "https://swf-fips.us-iso-west-1.api.aws.ic.gov" },
    { LW_SERVICE_SWF, "us-isob-east-1", 0, 0, "https://swf.us-isob-east-1.sc2s.sgov.gov" },
    { LW_SERVICE_SWF, "us-isob-east-1", 0, 1, "https://swf.us-isob-east-1.api.aws.scloud" },
    { LW_SERVICE_SWF, "us-isob-east-1", 1, 0, "https://swf-fips.us-isob-east-1.sc2s.sgov.gov" },
    { LW_SERVICE_SWF, "us-isob-east-1", 1, 1, "https://swf-fips.us-isob-east-1.api.aws.scloud" },
    { LW_SERVICE_SWF, "eu-isoe-west-1", 0, 0, "https://swf.eu-isoe-west-1.cloud.adc-e.uk" },
    { LW_SERVICE_SWF, "eu-isoe-west-1", 0, 1, "https://swf.eu-isoe-west-1.api.cloud-aws.adc-e.uk" },
    { LW_SERVICE_SWF, "eu-isoe-west-1", 1, 0, "https://swf-fips.eu-isoe-west-1.cloud.adc-e.uk" },
    { LW_SERVICE_SWF, "eu-isoe-west-1", 1, 1, "https://swf-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk" },
    { LW_SERVICE_SWF, "us-isof-south-1", 0, 0, "https://swf.us-isof-south-1.csp.hci.ic.gov" },
    { LW_SERVICE_SWF, "us-isof-south-1", 0, 1, "https://swf.us-isof-south-1.api.aws.hci.ic.gov" },
    { LW_SERVICE_SWF, "us-isof-south-1", 1, 0, "https://swf-fips.us-isof-south-1.csp.hci.ic.gov" },
    { LW_SERVICE_SWF, "us-isof-south-1", 1, 1, "https://swf-fips.us-isof-south-1.api.aws.hci.ic.gov" },
    { LW_SERVICE_SWF, "us-isof-east-1", 0, 0, "https://swf.us-isof-east-1.csp.hci.ic.gov" },
    { LW_SERVICE_SWF, "us-isof-east-1", 0, 1, "https://swf.us-isof-east-1.api.aws.hci.ic.gov" },
    { LW_SERVICE_SWF, "us-isof-east-1", 1, 0, "https://swf-fips.us-isof-east-1.csp.hci.ic.gov" },
    { LW_SERVICE_SWF, "us-isof-east-1", 1, 1, "https://swf-fips.us-isof-east-1.api.aws.hci.ic.gov" },
    { LW_SERVICE_SWF, "eusc-de-east-1", 0, 0, "https://swf.eusc-de-east-1.amazonaws.eu" },
    { LW_SERVICE_SWF, "eusc-de-east-1", 0, 1, "https://swf.eusc-de-east-1.api.amazonwebservices.eu" },
    { LW_SERVICE_SWF, "eusc-de-east-1", 1, 0, "https://swf-fips.eusc-de-east-1.amazonaws.eu" },
    { LW_SERVICE_SWF, "eusc-de-east-1", 1, 1, "https://swf-fips.eusc-de-east-1.api.amazonwebservices.eu" },
    { LW_SERVICE_SWF, "aws-global", 0, 0, "https://swf.aws-global.amazonaws.com" },
    { LW_SERVICE_SWF, "aws-global", 0, 1, "https://swf.aws-global.api.aws" },
    { LW_SERVICE_SWF, "aws-global", 1, 0, "https://swf-fips.aws-global.amazonaws.com" },
    { LW_SERVICE_SWF, "aws-global", 1, 1, "https://swf-fips.aws-global.api.aws" },
    { LW_SERVICE_SWF, "aws-cn-global", 0, 0, "https://swf.aws-cn-global.amazonaws.com.cn" },
    { LW_SERVICE_SWF, "aws-cn-global", 0, 1, "https://swf.aws-cn-global.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SWF, "aws-cn-global", 1, 0, "https://swf-fips.aws-cn-global.amazonaws.com.cn" },
    { LW_SERVICE_SWF, "aws-cn-global", 1, 1, "https://swf-fips.aws-cn-global.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SWF, "aws-us-gov-global", 0, 0, "https://swf.aws-us-gov-global.amazonaws.com" },
    { LW_SERVICE_SWF, "aws-us-gov-global", 0, 1, "https://swf-fips.aws-us-gov-global.api.aws" },
    { LW_SERVICE_SWF, "aws-us-gov-global", 1, 0, "https://swf.aws-us-gov-global.amazonaws.com" },
    { LW_SERVICE_SWF, "aws-us-gov-global", 1, 1, "https://swf-fips.aws-us-gov-global.api.aws" },
    { LW_SERVICE_SWF, "aws-iso-global", 0, 0, "https://swf.aws-iso-global.c2s.ic.gov" },
    { LW_SERVICE_SWF, "aws-iso-global", 0, 1, "https://swf.aws-iso-global.api.aws.ic.gov" },
    { LW_SERVICE_SWF, "aws-iso-global", 1, 0, "https://swf-fips.aws-iso-global.c2s.ic.gov" },
    { LW_SERVICE_SWF, "aws-iso-global", 1, 1, "https://swf-fips.aws-iso-global.api.aws.ic.gov" },
    { LW_SERVICE_SWF, "aws-iso-b-global", 0, 0, "https://swf.aws-iso-b-global.sc2s.sgov.gov" },
    { LW_SERVICE_SWF, "aws-iso-b-global", 0, 1, "https://swf.aws-iso-b-global.api.aws.scloud" },
    { LW_SERVICE_SWF, "aws-iso-b-global", 1, 0, "https://swf-fips.aws-iso-b-global.sc2s.sgov.gov" },
    { LW_SERVICE_SWF, "aws-iso-b-global", 1, 1, "https://swf-fips.aws-iso-b-global.api.aws.scloud" },
    { LW_SERVICE_SWF, "aws-iso-e-global", 0, 0, "https://swf.aws-iso-e-global.cloud.adc-e.uk" },
    { LW_SERVICE_SWF, "aws-iso-e-global", 0, 1, "https://swf.aws-iso-e-global.api.cloud-aws.adc-e.uk" },
    { LW_SERVICE_SWF, "aws-iso-e-global", 1, 0, "https://swf-fips.aws-iso-e-global.cloud.adc-e.uk" },
    { LW_SERVICE_SWF, "aws-iso-e-global", 1, 1, "https://swf-fips.aws-iso-e-global.api.cloud-aws.adc-e.uk" },
    { LW_SERVICE_SWF, "aws-iso-f-global", 0, 0, "https://swf.aws-iso-f-global.csp.hci.ic.gov" },
    { LW_SERVICE_SWF, "aws-iso-f-global", 0, 1, "https://swf.aws-iso-f-global.api.aws.hci.ic.gov" },
    { LW_SERVICE_SWF, "aws-iso-f-global", 1, 0, "https://swf-fips.aws-iso-f-global.csp.hci.ic.gov" },
    { LW_SERVICE_SWF, "aws-iso-f-global", 1, 1, "https://swf-fips.aws-iso-f-global.api.aws.hci.ic.gov" },
    { LW_SERVICE_SWF, "xx-unknown-1", 0, 0, "https://swf.xx-unknown-1.amazonaws.com" },
    { LW_SERVICE_SWF, "xx-unknown-1", 0, 1, "https://swf.xx-unknown-1.api.aws" },
    { LW_SERVICE_SWF, "xx-unknown-1", 1, 0, "https://swf-fips.xx-unknown-1.amazonaws.com" },
    { LW_SERVICE_SWF, "xx-unknown-1", 1, 1, "https://swf-fips.xx-unknown-1.api.aws" },
    { LW_SERVICE_SWF, "foo", 0, 0, "https://swf.foo.amazonaws.com" },
    { LW_SERVICE_SWF, "foo", 0, 1, "https://swf.foo.api.aws" },
    { LW_SERVICE_SWF, "foo", 1, 0, "https://swf-fips.foo.amazonaws.com" },
    { LW_SERVICE_SWF, "foo", 1, 1, "https://swf-fips.foo.api.aws" },
    { LW_SERVICE_SWF, "us-east-1-fips", 0, 0, "https://swf.us-east-1-fips.amazonaws.com" },
    { LW_SERVICE_SWF, "us-east-1-fips", 0, 1, "https://swf.us-east-1-fips.api.aws" },
    { LW_SERVICE_SWF, "us-east-1-fips", 1, 0, "https://swf-fips.us-east-1-fips.amazonaws.com" },
    { LW_SERVICE_SWF, "us-east-1-fips", 1, 1, "https://swf-fips.us-east-1-fips.api.aws" },
    { LW_SERVICE_SWF, "eu-central-99", 0, 0, "https://swf.eu-central-99.amazonaws.com" },
    { LW_SERVICE_SWF, "eu-central-99", 0, 1, "https://swf.eu-central-99.api.aws" },
    { LW_SERVICE_SWF, "eu-central-99", 1, 0, "https://swf-fips.eu-central-99.amazonaws.com" },
    { LW_SERVICE_SWF, "eu-central-99", 1, 1, "https://swf-fips.eu-central-99.api.aws" },
    { LW_SERVICE_SWF, "cn-south-9", 0, 0, "https://swf.cn-south-9.amazonaws.com.cn" },
    { LW_SERVICE_SWF, "cn-south-9", 0, 1, "https://swf.cn-south-9.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SWF, "cn-south-9", 1, 0, "https://swf-fips.cn-south-9.amazonaws.com.cn" },
    { LW_SERVICE_SWF, "cn-south-9", 1, 1, "https://swf-fips.cn-south-9.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SWF, "us-gov-south-7", 0, 0, "https://swf.us-gov-south-7.amazonaws.com" },
    { LW_SERVICE_SWF, "us-gov-south-7", 0, 1, "https://swf-fips.us-gov-south-7.api.aws" },
    { LW_SERVICE_SWF, "us-gov-south-7", 1, 0, "https://swf.us-gov-south-7.amazonaws.com" },
    { LW_SERVICE_SWF, "us-gov-south-7", 1, 1, "https://swf-fips.us-gov-south-7.api.aws" },
    { LW_SERVICE_SWF, "us-iso-north-5", 0, 0, "https://swf.us-iso-north-5.c2s.ic.gov" },
    { LW_SERVICE_SWF, "us-iso-north-5", 0, 1, "https://swf.us-iso-north-5.api.aws.ic.gov" },
    { LW_SERVICE_SWF, "us-iso-north-5", 1, 0, "https://swf-fips.us-iso-north-5.c2s.ic.gov" },
    { LW_SERVICE_SWF, "us-iso-north-5", 1, 1, "https://swf-fips.us-iso-north-5.api.aws.ic.gov" },
    { LW_SERVICE_SWF, "eusc-fr-east-1", 0, 0, "https://swf.eusc-fr-east-1.amazonaws.com" },
    { LW_SERVICE_SWF, "eusc-fr-east-1", 0, 1, "https://swf.eusc-fr-east-1.api.aws" },
    { LW_SERVICE_SWF, "eusc-fr-east-1", 1, 0, "https://swf-fips.eusc-fr-east-1.amazonaws.com" },
    { LW_SERVICE_SWF, "eusc-fr-east-1", 1, 1, "https://swf-fips.eusc-fr-east-1.api.aws" },
    { LW_SERVICE_SWF, "US-EAST-1", 0, 0, "https://swf.US-EAST-1.amazonaws.com" },
    { LW_SERVICE_SWF, "US-EAST-1", 0, 1, "https://swf.US-EAST-1.api.aws" },
    { LW_SERVICE_SWF, "US-EAST-1", 1, 0, "https://swf-fips.US-EAST-1.amazonaws.com" },
    { LW_SERVICE_SWF, "US-EAST-1", 1, 1, "https://swf-fips.US-EAST-1.api.aws" },
    { LW_SERVICE_SFN, "us-east-1", 0, 0, "https://states.us-east-1.amazonaws.com" },
    { LW_SERVICE_SFN, "us-east-1", 0, 1, "https://states.us-east-1.api.aws" },
    { LW_SERVICE_SFN, "us-east-1", 1, 0, "https://states-fips.us-east-1.amazonaws.com" },
    { LW_SERVICE_SFN, "us-east-1", 1, 1, "https://states-fips.us-east-1.api.aws" },
    { LW_SERVICE_SFN, "eu-west-1", 0, 0, "https://states.eu-west-1.amazonaws.com" },
    { LW_SERVICE_SFN, "eu-west-1", 0, 1, "https://states.eu-west-1.api.aws" },
    { LW_SERVICE_SFN, "eu-west-1", 1, 0, "https://states-fips.eu-west-1.amazonaws.com" },
    { LW_SERVICE_SFN, "eu-west-1", 1, 1, "https://states-fips.eu-west-1.api.aws" },
    { LW_SERVICE_SFN, "ap-southeast-7", 0, 0, "https://states.ap-southeast-7.amazonaws.com" },
    { LW_SERVICE_SFN, "ap-southeast-7", 0, 1, "https://states.ap-southeast-7.api.aws" },
    { LW_SERVICE_SFN, "ap-southeast-7", 1, 0, "https://states-fips.ap-southeast-7.amazonaws.com" },
    { LW_SERVICE_SFN, "ap-southeast-7", 1, 1, "https://states-fips.ap-southeast-7.api.aws" },
    { LW_SERVICE_SFN, "mx-central-1", 0, 0, "https://states.mx-central-1.amazonaws.com" },
    { LW_SERVICE_SFN, "mx-central-1", 0, 1, "https://states.mx-central-1.api.aws" },
    { LW_SERVICE_SFN, "mx-central-1", 1, 0, "https://states-fips.mx-central-1.amazonaws.com" },
    { LW_SERVICE_SFN, "mx-central-1", 1, 1, "https://states-fips.mx-central-1.api.aws" },
    { LW_SERVICE_SFN, "il-central-1", 0, 0, "https://states.il-central-1.amazonaws.com" },
    { LW_SERVICE_SFN, "il-central-1", 0, 1, "https://states.il-central-1.api.aws" },
    { LW_SERVICE_SFN, "il-central-1", 1, 0, "https://states-fips.il-central-1.amazonaws.com" },
    { LW_SERVICE_SFN, "il-central-1", 1, 1, "https://states-fips.il-central-1.api.aws" },
    { LW_SERVICE_SFN, "ca-west-1", 0, 0, "https://states.ca-west-1.amazonaws.com" },
    { LW_SERVICE_SFN, "ca-west-1", 0, 1, "https://states.ca-west-1.api.aws" },
    { LW_SERVICE_SFN, "ca-west-1", 1, 0, "https://states-fips.ca-west-1.amazonaws.com" },
    { LW_SERVICE_SFN, "ca-west-1", 1, 1, "https://states-fips.ca-west-1.api.aws" },
    { LW_SERVICE_SFN, "sa-east-1", 0, 0, "https://states.sa-east-1.amazonaws.com" },
    { LW_SERVICE_SFN, "sa-east-1", 0, 1, "https://states.sa-east-1.api.aws" },
    { LW_SERVICE_SFN, "sa-east-1", 1, 0, "https://states-fips.sa-east-1.amazonaws.com" },
    { LW_SERVICE_SFN, "sa-east-1", 1, 1, "https://states-fips.sa-east-1.api.aws" },
    { LW_SERVICE_SFN, "me-central-1", 0, 0, "https://states.me-central-1.amazonaws.com" },
    { LW_SERVICE_SFN, "me-central-1", 0, 1, "https://states.me-central-1.api.aws" },
    { LW_SERVICE_SFN, "me-central-1", 1, 0, "https://states-fips.me-central-1.amazonaws.com" },
    { LW_SERVICE_SFN, "me-central-1", 1, 1, "https://states-fips.me-central-1.api.aws" },
    { LW_SERVICE_SFN, "af-south-1", 0, 0, "https://states.af-south-1.amazonaws.com" },
    { LW_SERVICE_SFN, "af-south-1", 0, 1, "https://states.af-south-1.api.aws" },
    { LW_SERVICE_SFN, "af-south-1", 1, 0, "https://states-fips.af-south-1.amazonaws.com" },
    { LW_SERVICE_SFN, "af-south-1", 1, 1, "https://states-fips.af-south-1.api.aws" },
    { LW_SERVICE_SFN, "cn-north-1", 0, 0, "https://states.cn-north-1.amazonaws.com.cn" },
    { LW_SERVICE_SFN, "cn-north-1", 0, 1, "https://states.cn-north-1.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SFN, "cn-north-1", 1, 0, "https://states-fips.cn-north-1.amazonaws.com.cn" },
    { LW_SERVICE_SFN, "cn-north-1", 1, 1, "https://states-fips.cn-north-1.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SFN, "cn-northwest-1", 0, 0, "https://states.cn-northwest-1.amazonaws.com.cn" },
    { LW_SERVICE_SFN, "cn-northwest-1", 0, 1, "https://states.cn-northwest-1.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SFN, "cn-northwest-1", 1, 0, "https://states-fips.cn-northwest-1.amazonaws.com.cn" },
    { LW_SERVICE_SFN, "cn-northwest-1", 1, 1, "https://states-fips.cn-northwest-1.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SFN, "us-gov-west-1", 0, 0, "https://states.us-gov-west-1.amazonaws.com" },
    { LW_SERVICE_SFN, "us-gov-west-1", 0, 1, "https://states-fips.us-gov-west-1.api.aws" },
    { LW_SERVICE_SFN, "us-gov-west-1", 1, 0, "https://states.us-gov-west-1.amazonaws.com" },
    { LW_SERVICE_SFN, "us-gov-west-1", 1, 1, "https://states-fips.us-gov-west-1.api.aws" },
    { LW_SERVICE_SFN, "us-gov-east-1", 0, 0, "https://states.us-gov-east-1.amazonaws.com" },
    { LW_SERVICE_SFN, "us-gov-east-1", 0, 1, "https://states-fips.us-gov-east-1.api.aws" },
    { LW_SERVICE_SFN, "us-gov-east-1", 1, 0, "https://states-fips.us-gov-east-1.amazonaws.com" },
    { LW_SERVICE_SFN, "us-gov-east-1", 1, 1, "https://states-fips.us-gov-east-1.api.aws" },
    { LW_SERVICE_SFN, "us-iso-east-1", 0, 0, "https://states.us-iso-east-1.c2s.ic.gov" },
    { LW_SERVICE_SFN, "us-iso-east-1", 0, 1, "https://states.us-iso-east-1.api.aws.ic.gov" },
    { LW_SERVICE_SFN, "us-iso-east-1", 1, 0, "https://states-fips.us-iso-east-1.c2s.ic.gov" },
    { LW_SERVICE_SFN, "us-iso-east-1", 1, 1, "https://states-fips.us-iso-east-1.api.aws.ic.gov" },
    { LW_SERVICE_SFN, "us-iso-west-1", 0, 0, "https://states.us-iso-west-1.c2s.ic.gov" },
    { LW_SERVICE_SFN, "us-iso-west-1", 0, 1, "https://states.us-iso-west-1.api.aws.ic.gov" },
    { LW_SERVICE_SFN, "us-iso-west-1", 1, 0, "https://states-fips.us-iso-west-1.c2s.ic.gov" },
    { LW_SERVICE_SFN, "us-iso-west-1", 1, 1, "https://states-fips.us-iso-west-1.api.aws.ic.gov" },
    { LW_SERVICE_SFN, "us-isob-east-1", 0, 0, "https://states.us-isob-east-1.sc2s.sgov.gov" },
    { LW_SERVICE_SFN, "us-isob-east-1", 0, 1, "https://states.us-isob-east-1.api.aws.scloud" },
    { LW_SERVICE_SFN, "us-isob-east-1", 1, 0, "https://states-fips.us-isob-east-1.sc2s.sgov.gov" },
    { LW_SERVICE_SFN, "us-isob-east-1", 1, 1, "https://states-fips.us-isob-east-1.api.aws.scloud" },
    { LW_SERVICE_SFN, "eu-isoe-west-1", 0, 0, "https://states.eu-isoe-west-1.cloud.adc-e.uk" },
    { LW_SERVICE_SFN, "eu-isoe-west-1", 0, 1, "https://states.eu-isoe-west-1.api.cloud-aws.adc-e.uk" },
    { LW_SERVICE_SFN, "eu-isoe-west-1", 1, 0, "https://states-fips.eu-isoe-west-1.cloud.adc-e.uk" },
    { LW_SERVICE_SFN, "eu-isoe-west-1", 1, 1, "https://states-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk" },
    { LW_SERVICE_SFN, "us-isof-south-1", 0, 0, "https://states.us-isof-south-1.csp.hci.ic.gov" },
    { LW_SERVICE_SFN, "us-isof-south-1", 0, 1, "https://states.us-isof-south-1.api.aws.hci.ic.gov" },
    { LW_SERVICE_SFN, "us-isof-south-1", 1, 0, "https://states-fips.us-isof-south-1.csp.hci.ic.gov" },
    { LW_SERVICE_SFN, "us-isof-south-1", 1, 1, "https://states-fips.us-isof-south-1.api.aws.hci.ic.gov" },
    { LW_SERVICE_SFN, "us-isof-east-1", 0, 0, "https://states.us-isof-east-1.csp.hci.ic.gov" },
    { LW_SERVICE_SFN, "us-isof-east-1", 0, 1, "https://states.us-isof-east-1.api.aws.hci.ic.gov" },
    { LW_SERVICE_SFN, "us-isof-east-1", 1, 0, "https://states-fips.us-isof-east-1.csp.hci.ic.gov" },
    { LW_SERVICE_SFN, "us-isof-east-1", 1, 1, "https://states-fips.us-isof-east-1.api.aws.hci.ic.gov" },
    { LW_SERVICE_SFN, "eusc-de-east-1", 0, 0, "https://states.eusc-de-east-1.amazonaws.eu" },
    { LW_SERVICE_SFN, "eusc-de-east-1", 0, 1, "https://states.eusc-de-east-1.api.amazonwebservices.eu" },
    { LW_SERVICE_SFN, "eusc-de-east-1", 1, 0, "https://states-fips.eusc-de-east-1.amazonaws.eu" },
    { LW_SERVICE_SFN, "eusc-de-east-1", 1, 1, "https://states-fips.eusc-de-east-1.api.amazonwebservices.eu" },
    { LW_SERVICE_SFN, "aws-global", 0, 0, "https://states.aws-global.amazonaws.com" },
    { LW_SERVICE_SFN, "aws-global", 0, 1, "https://states.aws-global.api.aws" },
    { LW_SERVICE_SFN, "aws-global", 1, 0, "https://states-fips.aws-global.amazonaws.com" },
    { LW_SERVICE_SFN, "aws-global", 1, 1, "https://states-fips.aws-global.api.aws" },
    { LW_SERVICE_SFN, "aws-cn-global", 0, 0, "https://states.aws-cn-global.amazonaws.com.cn" },
    { LW_SERVICE_SFN, "aws-cn-global", 0, 1, "https://states.aws-cn-global.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SFN, "aws-cn-global", 1, 0, "https://states-fips.aws-cn-global.amazonaws.com.cn" },
    { LW_SERVICE_SFN, "aws-cn-global", 1, 1, "https://states-fips.aws-cn-global.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SFN, "aws-us-gov-global", 0, 0, "https://states.aws-us-gov-global.amazonaws.com" },
    { LW_SERVICE_SFN, "aws-us-gov-global", 0, 1, "https://states-fips.aws-us-gov-global.api.aws" },
    { LW_SERVICE_SFN, "aws-us-gov-global", 1, 0, "https://states-fips.aws-us-gov-global.amazonaws.com" },
    { LW_SERVICE_SFN, "aws-us-gov-global", 1, 1, "https://states-fips.aws-us-gov-global.api.aws" },
    { LW_SERVICE_SFN, "aws-iso-global", 0, 0, "https://states.aws-iso-global.c2s.ic.gov" },
    { LW_SERVICE_SFN, "aws-iso-global", 0, 1, "https://states.aws-iso-global.api.aws.ic.gov" },
    { LW_SERVICE_SFN, "aws-iso-global", 1, 0, "https://states-fips.aws-iso-global.c2s.ic.gov" },
    { LW_SERVICE_SFN, "aws-iso-global", 1, 1, "https://states-fips.aws-iso-global.api.aws.ic.gov" },
    { LW_SERVICE_SFN, "aws-iso-b-global", 0, 0, "https://states.aws-iso-b-global.sc2s.sgov.gov" },
    { LW_SERVICE_SFN, "aws-iso-b-global", 0, 1, "https://states.aws-iso-b-global.api.aws.scloud" },
    { LW_SERVICE_SFN, "aws-iso-b-global", 1, 0, "https://states-fips.aws-iso-b-global.sc2s.sgov.gov" },
    { LW_SERVICE_SFN, "aws-iso-b-global", 1, 1, "https://states-fips.aws-iso-b-global.api.aws.scloud" },
    { LW_SERVICE_SFN, "aws-iso-e-global", 0, 0, "https://states.aws-iso-e-global.cloud.adc-e.uk" },
    { LW_SERVICE_SFN, "aws-iso-e-global", 0, 1, "https://states.aws-iso-e-global.api.cloud-aws.adc-e.uk" },
    { LW_SERVICE_SFN, "aws-iso-e-global", 1, 0, "https://states-fips.aws-iso-e-global.cloud.adc-e.uk" },
    { LW_SERVICE_SFN, "aws-iso-e-global", 1, 1, "https://states-fips.aws-iso-e-global.api.cloud-aws.adc-e.uk" },
    { LW_SERVICE_SFN, "aws-iso-f-global", 0, 0, "https://states.aws-iso-f-global.csp.hci.ic.gov" },
    { LW_SERVICE_SFN, "aws-iso-f-global", 0, 1, "https://states.aws-iso-f-global.api.aws.hci.ic.gov" },
    { LW_SERVICE_SFN, "aws-iso-f-global", 1, 0, "https://states-fips.aws-iso-f-global.csp.hci.ic.gov" },
    { LW_SERVICE_SFN, "aws-iso-f-global", 1, 1, "https://states-fips.aws-iso-f-global.api.aws.hci.ic.gov" },
    { LW_SERVICE_SFN, "xx-unknown-1", 0, 0, "https://states.xx-unknown-1.amazonaws.com" },
    { LW_SERVICE_SFN, "xx-unknown-1", 0, 1, "https://states.xx-unknown-1.api.aws" },
    { LW_SERVICE_SFN, "xx-unknown-1", 1, 0, "https://states-fips.xx-unknown-1.amazonaws.com" },
    { LW_SERVICE_SFN, "xx-unknown-1", 1, 1, "https://states-fips.xx-unknown-1.api.aws" },
    { LW_SERVICE_SFN, "foo", 0, 0, "https://states.foo.amazonaws.com" },
    { LW_SERVICE_SFN, "foo", 0, 1, "https://states.foo.api.aws" },
    { LW_SERVICE_SFN, "foo", 1, 0, "https://states-fips.foo.amazonaws.com" },
    { LW_SERVICE_SFN, "foo", 1, 1, "https://states-fips.foo.api.aws" },
    { LW_SERVICE_SFN, "us-east-1-fips", 0, 0, "https://states.us-east-1-fips.amazonaws.com" },
    { LW_SERVICE_SFN, "us-east-1-fips", 0, 1, "https://states.us-east-1-fips.api.aws" },
    { LW_SERVICE_SFN, "us-east-1-fips", 1, 0, "https://states-fips.us-east-1-fips.amazonaws.com" },
    { LW_SERVICE_SFN, "us-east-1-fips", 1, 1, "https://states-fips.us-east-1-fips.api.aws" },
    { LW_SERVICE_SFN, "eu-central-99", 0, 0, "https://states.eu-central-99.amazonaws.com" },
    { LW_SERVICE_SFN, "eu-central-99", 0, 1, "https://states.eu-central-99.api.aws" },
    { LW_SERVICE_SFN, "eu-central-99", 1, 0, "https://states-fips.eu-central-99.amazonaws.com" },
    { LW_SERVICE_SFN, "eu-central-99", 1, 1, "https://states-fips.eu-central-99.api.aws" },
    { LW_SERVICE_SFN, "cn-south-9", 0, 0, "https://states.cn-south-9.amazonaws.com.cn" },
    { LW_SERVICE_SFN, "cn-south-9", 0, 1, "https://states.cn-south-9.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SFN, "cn-south-9", 1, 0, "https://states-fips.cn-south-9.amazonaws.com.cn" },
    { LW_SERVICE_SFN, "cn-south-9", 1, 1, "https://states-fips.cn-south-9.api.amazonwebservices.com.cn" },
    { LW_SERVICE_SFN, "us-gov-south-7", 0, 0, "https://states.us-gov-south-7.amazonaws.com" },
    { LW_SERVICE_SFN, "us-gov-south-7", 0, 1, "https://states-fips.us-gov-south-7.api.aws" },
    { LW_SERVICE_SFN, "us-gov-south-7", 1, 0, "https://states-fips.us-gov-south-7.amazonaws.com" },
    { LW_SERVICE_SFN, "us-gov-south-7", 1, 1, "https://states-fips.us-gov-south-7.api.aws" },
    { LW_SERVICE_SFN, "us-iso-north-5", 0, 0, "https://states.us-iso-north-5.c2s.ic.gov" },
    { LW_SERVICE_SFN, "us-iso-north-5", 0, 1, "https://states.us-iso-north-5.api.aws.ic.gov" },
    { LW_SERVICE_SFN, "us-iso-north-5", 1, 0, "https://states-fips.us-iso-north-5.c2s.ic.gov" },
    { LW_SERVICE_SFN, "us-iso-north-5", 1, 1, "https://states-fips.us-iso-north-5.api.aws.ic.gov" },
    { LW_SERVICE_SFN, "eusc-fr-east-1", 0, 0, "https://states.eusc-fr-east-1.amazonaws.com" },
    { LW_SERVICE_SFN, "eusc-fr-east-1", 0, 1, "https://states.eusc-fr-east-1.api.aws" },
    { LW_SERVICE_SFN, "eusc-fr-east-1", 1, 0, "https://states-fips.eusc-fr-east-1.amazonaws.com" },
    { LW_SERVICE_SFN, "eusc-fr-east-1", 1, 1, "https://states-fips.eusc-fr-east-1.api.aws" },
    { LW_SERVICE_SFN, "US-EAST-1", 0, 0, "https://states.US-EAST-1.amazonaws.com" },
    { LW_SERVICE_SFN, "US-EAST-1", 0, 1, "https://states.US-EAST-1.api.aws" },
    { LW_SERVICE_SFN, "US-EAST-1", 1, 0, "https://states-fips.US-EAST-1.amazonaws.com" },
    { LW_SERVICE_SFN, "US-EAST-1", 1, 1, "https://states-fips.US-EAST-1.api.aws" },
};

static void test_default_endpoints_match_botocore_rule_sets(void)
{
    char name[160];
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct vector *v = &vectors[i];
        snprintf(name, sizeof name, "%s %s fips=%d dual=%d", v->svc == LW_SERVICE_SWF ? "swf" : "sfn",
                 v->region, v->fips, v->dual);
        t_begin(name);
        struct lw_endpoint_env env = {
            .use_fips_endpoint = v->fips ? "true" : "false",
            .use_dualstack_endpoint = v->dual ? "true" : "false",
        };
        struct lw_endpoint ep;
        int rc = lw_endpoint_resolve(v->svc, NULL, v->region, &env, NULL, NULL, &ep, &err);
        CHECK_INT(rc, 0);
        if (rc == 0) {
            CHECK_STR(ep.url, v->url);
            CHECK_STR(ep.host, v->url + strlen("https://"));
            CHECK_STR(ep.host_header, ep.host);
            CHECK_INT(ep.port, 443);
            CHECK(ep.tls);
            CHECK_STR(ep.signing_region, v->region);
            CHECK_STR(ep.signing_name, v->svc == LW_SERVICE_SWF ? "swf" : "states");
            CHECK_STR(ep.source, "default");
        } else {
            fprintf(stderr, "  %s\n", err.message);
        }
        t_end();
    }
}

static const char *region_of(const char *explicit_region, const struct lw_endpoint_env *env,
                             const struct lw_ini *ini, const char *profile, const char **source)
{
    static struct lw_region r;
    if (lw_region_resolve(explicit_region, env, ini, profile, &r, &err) < 0)
        return NULL;
    *source = r.source;
    return r.name;
}

static void test_region_precedence(void)
{
    struct lw_ini *ini = cfg("[default]\nregion = eu-west-1\n[profile dev]\nregion = ap-south-1\n"
                             "[profile none]\noutput = json\n");
    struct lw_endpoint_env env = { .aws_region = "us-west-2", .aws_default_region = "us-east-2" };
    const char *src = NULL;
    CHECK_STR(region_of("ca-central-1", &env, ini, "default", &src), "ca-central-1");
    CHECK_STR(src, "explicit");
    CHECK_STR(region_of(NULL, &env, ini, "default", &src), "us-west-2");
    CHECK_STR(src, "AWS_REGION");
    env.aws_region = "";                          /* empty = unset */
    CHECK_STR(region_of("", &env, ini, "default", &src), "us-east-2");
    CHECK_STR(src, "AWS_DEFAULT_REGION");
    env.aws_default_region = NULL;
    CHECK_STR(region_of(NULL, &env, ini, "default", &src), "eu-west-1");
    CHECK_STR(src, "config");
    CHECK_STR(region_of(NULL, &env, ini, "dev", &src), "ap-south-1");
    CHECK(region_of(NULL, &env, ini, "none", &src) == NULL);
    CHECK_STR(err.code, "NoRegion");
    CHECK(strstr(err.message, "no AWS region: set --region, AWS_REGION or AWS_DEFAULT_REGION") != NULL);
    CHECK(strstr(err.message, "\"none\"") != NULL);
    CHECK(region_of(NULL, &env, NULL, "default", &src) == NULL);
    CHECK(region_of(NULL, &env, ini, "missing", &src) == NULL);
    lw_ini_free(ini);
}

static void test_region_validation(void)
{
    struct lw_endpoint_env env = { 0 };
    const char *src;
    static const char *const bad[] = { "us_east_1", "-us-east-1", "us-east-1-", "123",
                                       "us east 1", "us-east-1.evil.com", "us/east",
                                       "a123456789012345678901234567890123456789012345678901234567890123" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(region_of(bad[i], &env, NULL, NULL, &src) == NULL);
        CHECK_STR(err.code, "InvalidRegion");
    }
    CHECK_STR(region_of("US-EAST-1", &env, NULL, NULL, &src), "US-EAST-1");   /* as botocore */
    CHECK_STR(region_of("local", &env, NULL, NULL, &src), "local");
    CHECK_STR(region_of("1a", &env, NULL, NULL, &src), "1a");
}

static const char *url_of(enum lw_aws_service svc, const char *explicit_url,
                          const struct lw_endpoint_env *env, const struct lw_ini *ini,
                          const char *profile, const char **source)
{
    static struct lw_endpoint ep;
    if (lw_endpoint_resolve(svc, explicit_url, "us-east-1", env, ini, profile, &ep, &err) < 0)
        return NULL;
    *source = ep.source;
    return ep.url;
}

static void test_endpoint_precedence(void)
{
    struct lw_ini *ini = cfg("[default]\nservices = local\nendpoint_url = http://profile:1\n"
                             "[services local]\nsfn =\n  endpoint_url = http://svc-sfn:2\n"
                             "swf =\n  endpoint_url = http://svc-swf:3\n");
    struct lw_endpoint_env env = {
        .endpoint_url_swf = "http://env-swf:4", .endpoint_url_sfn = "http://env-sfn:5",
        .endpoint_url = "http://env-all:6",
    };
    const char *src;
    CHECK_STR(url_of(LW_SERVICE_SFN, "http://explicit:7", &env, ini, "default", &src),
              "http://explicit:7");
    CHECK_STR(src, "explicit");
    CHECK_STR(url_of(LW_SERVICE_SFN, NULL, &env, ini, "default", &src), "http://env-sfn:5");
    CHECK_STR(src, "AWS_ENDPOINT_URL_SFN");
    CHECK_STR(url_of(LW_SERVICE_SWF, NULL, &env, ini, "default", &src), "http://env-swf:4");
    CHECK_STR(src, "AWS_ENDPOINT_URL_SWF");
    env.endpoint_url_sfn = "";                     /* empty = not set (botocore: falsy) */
    CHECK_STR(url_of(LW_SERVICE_SFN, NULL, &env, ini, "default", &src), "http://env-all:6");
    CHECK_STR(src, "AWS_ENDPOINT_URL");
    env.endpoint_url = NULL;
    CHECK_STR(url_of(LW_SERVICE_SFN, NULL, &env, ini, "default", &src), "http://svc-sfn:2");
    CHECK_STR(src, "config services");
    CHECK_STR(url_of(LW_SERVICE_SWF, NULL, &env, ini, "default", &src), "http://env-swf:4");
    env.endpoint_url_swf = NULL;
    CHECK_STR(url_of(LW_SERVICE_SWF, NULL, &env, ini, "default", &src), "http://svc-swf:3");
    lw_ini_free(ini);

    /* a services section without this service: the profile's endpoint_url */
    ini = cfg("[default]\nservices = local\nendpoint_url = http://profile:1\n"
              "[services local]\nswf =\n  endpoint_url = http://svc-swf:3\n"
              "[profile plain]\nregion = us-east-1\n");
    CHECK_STR(url_of(LW_SERVICE_SFN, NULL, &env, ini, "default", &src), "http://profile:1");
    CHECK_STR(src, "config endpoint_url");
    CHECK_STR(url_of(LW_SERVICE_SFN, NULL, &env, ini, "plain", &src),
              "https://states.us-east-1.amazonaws.com");
    CHECK_STR(src, "default");
    CHECK_STR(url_of(LW_SERVICE_SFN, NULL, &env, ini, "absent", &src),
              "https://states.us-east-1.amazonaws.com");
    CHECK_STR(url_of(LW_SERVICE_SWF, NULL, &env, NULL, NULL, &src),
              "https://swf.us-east-1.amazonaws.com");
    lw_ini_free(ini);
}

static void test_missing_services_section(void)
{
    struct lw_ini *ini = cfg("[default]\nservices = nope\n[services other]\nsfn =\n  endpoint_url = http://x:1\n");
    struct lw_endpoint_env env = { 0 };
    const char *src;
    CHECK(url_of(LW_SERVICE_SFN, NULL, &env, ini, "default", &src) == NULL);
    CHECK_STR(err.code, "InvalidConfiguration");
    CHECK(strstr(err.message, "[services nope]") != NULL);
    /* only consulted when nothing before it decided */
    env.endpoint_url = "http://env:1";
    CHECK_STR(url_of(LW_SERVICE_SFN, NULL, &env, ini, "default", &src), "http://env:1");
    env.endpoint_url = NULL;
    env.ignore_configured_endpoint_urls = "true";
    CHECK_STR(url_of(LW_SERVICE_SFN, NULL, &env, ini, "default", &src),
              "https://states.us-east-1.amazonaws.com");
    lw_ini_free(ini);
}

static void test_ignore_configured_endpoint_urls(void)
{
    struct lw_ini *ini = cfg("[default]\nendpoint_url = http://profile:1\n"
                             "[profile ign]\nendpoint_url = http://profile:1\n"
                             "ignore_configured_endpoint_urls = TRUE\n");
    struct lw_endpoint_env env = { .endpoint_url = "http://env:1",
                                   .ignore_configured_endpoint_urls = "true" };
    const char *src;
    CHECK_STR(url_of(LW_SERVICE_SWF, NULL, &env, ini, "default", &src),
              "https://swf.us-east-1.amazonaws.com");
    CHECK_STR(url_of(LW_SERVICE_SWF, "http://explicit:2", &env, ini, "default", &src),
              "http://explicit:2");                         /* explicit still wins */
    env.ignore_configured_endpoint_urls = "1";              /* only "true" is true */
    CHECK_STR(url_of(LW_SERVICE_SWF, NULL, &env, ini, "default", &src), "http://env:1");
    env.ignore_configured_endpoint_urls = NULL;             /* from the profile */
    CHECK_STR(url_of(LW_SERVICE_SWF, NULL, &env, ini, "ign", &src),
              "https://swf.us-east-1.amazonaws.com");
    env.ignore_configured_endpoint_urls = "false";          /* env beats config */
    CHECK_STR(url_of(LW_SERVICE_SWF, NULL, &env, ini, "ign", &src), "http://env:1");
    env.ignore_configured_endpoint_urls = "";               /* set and empty: false */
    CHECK_STR(url_of(LW_SERVICE_SWF, NULL, &env, ini, "ign", &src), "http://env:1");
    lw_ini_free(ini);
}

static void test_fips_dualstack_from_config_and_env(void)
{
    struct lw_ini *ini = cfg("[default]\nuse_fips_endpoint = true\n"
                             "[profile ds]\nuse_dualstack_endpoint = True\n");
    struct lw_endpoint_env env = { 0 };
    const char *src;
    CHECK_STR(url_of(LW_SERVICE_SFN, NULL, &env, ini, "default", &src),
              "https://states-fips.us-east-1.amazonaws.com");
    CHECK_STR(url_of(LW_SERVICE_SFN, NULL, &env, ini, "ds", &src),
              "https://states.us-east-1.api.aws");
    env.use_fips_endpoint = "false";                       /* env beats config */
    CHECK_STR(url_of(LW_SERVICE_SFN, NULL, &env, ini, "default", &src),
              "https://states.us-east-1.amazonaws.com");
    env.use_fips_endpoint = "TRUE";
    env.use_dualstack_endpoint = "true";
    CHECK_STR(url_of(LW_SERVICE_SWF, NULL, &env, ini, "default", &src),
              "https://swf-fips.us-east-1.api.aws");
    lw_ini_free(ini);
}

static void test_custom_endpoint_with_fips_or_dualstack_is_an_error(void)
{
    struct lw_endpoint_env env = { .use_fips_endpoint = "true" };
    const char *src;
    CHECK(url_of(LW_SERVICE_SFN, "http://localhost:4566", &env, NULL, NULL, &src) == NULL);
    CHECK_STR(err.code, "InvalidConfiguration");
    CHECK(strstr(err.message, "FIPS and custom endpoint are not supported") != NULL);
    CHECK(strstr(err.message, "explicit") != NULL);
    env.use_fips_endpoint = NULL;
    env.use_dualstack_endpoint = "true";
    env.endpoint_url = "http://localhost:4566";
    CHECK(url_of(LW_SERVICE_SFN, NULL, &env, NULL, NULL, &src) == NULL);
    CHECK(strstr(err.message, "Dualstack and custom endpoint are not supported") != NULL);
    CHECK(strstr(err.message, "AWS_ENDPOINT_URL") != NULL);
    /* ignored configured endpoints do not conflict */
    env.ignore_configured_endpoint_urls = "true";
    CHECK_STR(url_of(LW_SERVICE_SFN, NULL, &env, NULL, NULL, &src), "https://states.us-east-1.api.aws");
}

static void test_missing_region(void)
{
    struct lw_endpoint_env env = { 0 };
    struct lw_endpoint ep;
    CHECK_INT(lw_endpoint_resolve(LW_SERVICE_SWF, NULL, NULL, &env, NULL, NULL, &ep, &err), -1);
    CHECK_STR(err.code, "NoRegion");
    CHECK(strstr(err.message, "Missing Region") != NULL);
    CHECK_INT(lw_endpoint_resolve(LW_SERVICE_SWF, "http://x:1", "", &env, NULL, NULL, &ep, &err), -1);
    CHECK_STR(err.code, "NoRegion");
    CHECK_INT(lw_endpoint_resolve(LW_SERVICE_SWF, NULL, "bad_region", &env, NULL, NULL, &ep, &err), -1);
    CHECK_STR(err.code, "InvalidRegion");
}

struct url_case {
    const char *in;
    const char *url, *host, *host_header;
    int port, tls;
};

static void test_custom_url_normalization(void)
{
    static const struct url_case ok[] = {
        { "http://localhost:4566", "http://localhost:4566", "localhost", "localhost:4566", 4566, 0 },
        { "http://127.0.0.1:8083/", "http://127.0.0.1:8083", "127.0.0.1", "127.0.0.1:8083", 8083, 0 },
        { "HTTPS://Example.COM", "https://example.com", "example.com", "example.com", 443, 1 },
        { "https://h.example.com:443/", "https://h.example.com", "h.example.com", "h.example.com", 443, 1 },
        { "http://h:80", "http://h", "h", "h", 80, 0 },
        { "https://h:80", "https://h:80", "h", "h:80", 80, 1 },
        { "http://[::1]:8080", "http://[::1]:8080", "[::1]", "[::1]:8080", 8080, 0 },
        { "https://[FD00:EC2::254]", "https://[fd00:ec2::254]", "[fd00:ec2::254]", "[fd00:ec2::254]", 443, 1 },
        { "http://host.:1", "http://host.:1", "host.", "host.:1", 1, 0 },
        { "http://a-b.c-d:65535", "http://a-b.c-d:65535", "a-b.c-d", "a-b.c-d:65535", 65535, 0 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct lw_endpoint ep;
        int rc = lw_endpoint_parse_url(ok[i].in, "test", &ep, &err);
        CHECK_INT(rc, 0);
        if (rc < 0) {
            fprintf(stderr, "  %s: %s\n", ok[i].in, err.message);
            continue;
        }
        CHECK_STR(ep.url, ok[i].url);
        CHECK_STR(ep.host, ok[i].host);
        CHECK_STR(ep.host_header, ok[i].host_header);
        CHECK_INT(ep.port, ok[i].port);
        CHECK_INT(ep.tls, ok[i].tls);
    }
}

static void test_custom_url_rejections(void)
{
    static const char *const bad[][2] = {
        { "ftp://x", "scheme" }, { "localhost:4566", "expected http" }, { "http://", "no host" },
        { "http://:80", "host name" }, { "http://x/path", "path" }, { "http://x//", "path" },
        { "http://x?q=1", "query" }, { "http://x#f", "fragment" },
        { "http://user:pw@x", "user info" }, { "http://x:0", "port" }, { "http://x:65536", "port" },
        { "http://x:", "port" }, { "http://x:8a", "port" }, { "http://x:99999999999", "port" },
        { "http://my_host:1", "host name" }, { "http://-x:1", "host name" },
        { "http://x-.y", "host name" }, { "http://a..b", "host name" }, { "http://x y", "spaces" },
        { "http://x\n", "control" }, { "http://h\xc3\xa9", "non-ASCII" }, { "http://[::1", "IPv6" },
        { "http://[zz::1]", "IPv6" }, { "http://[::1]x", "after the IPv6" }, { "http://a:1:2", "port" },
        { "", "expected http" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct lw_endpoint ep;
        int rc = lw_endpoint_parse_url(bad[i][0], "AWS_ENDPOINT_URL", &ep, &err);
        CHECK_INT(rc, -1);
        CHECK_STR(err.code, "InvalidEndpoint");
        if (!strstr(err.message, bad[i][1]) || !strstr(err.message, "from AWS_ENDPOINT_URL")) {
            fprintf(stderr, "  %s: message \"%s\" lacks \"%s\"\n", bad[i][0], err.message, bad[i][1]);
            t_cur_failed = 1;
        }
    }
    /* a URL that may carry credentials is not echoed */
    struct lw_endpoint ep;
    CHECK_INT(lw_endpoint_parse_url("http://AKID:SECRET@x", "test", &ep, &err), -1);
    CHECK(strstr(err.message, "SECRET") == NULL);
    /* a 300-label host is too long */
    char longurl[700] = "http://";
    for (int i = 0; i < 150; i++)
        strcat(longurl, "a.");
    strcat(longurl, "b");
    CHECK_INT(lw_endpoint_parse_url(longurl, "test", &ep, &err), -1);
    /* a bad configured URL is reported with its source */
    struct lw_endpoint_env env = { .endpoint_url_sfn = "localhost:4566" };
    const char *src;
    CHECK(url_of(LW_SERVICE_SFN, NULL, &env, NULL, NULL, &src) == NULL);
    CHECK(strstr(err.message, "from AWS_ENDPOINT_URL_SFN") != NULL);
}

static void test_env_helpers(void)
{
    struct lw_endpoint_env env;
    setenv("AWS_REGION", "eu-north-1", 1);
    setenv("AWS_ENDPOINT_URL_SFN", "http://e:1", 1);
    unsetenv("AWS_ENDPOINT_URL_SWF");
    setenv("AWS_PROFILE", "p2", 1);
    unsetenv("AWS_DEFAULT_PROFILE");
    lw_endpoint_env_get(&env);
    CHECK_STR(env.aws_region, "eu-north-1");
    CHECK_STR(env.endpoint_url_sfn, "http://e:1");
    CHECK(env.endpoint_url_swf == NULL);
    CHECK_STR(lw_endpoint_profile(NULL, &env), "p2");
    CHECK_STR(lw_endpoint_profile("cli", &env), "cli");
    setenv("AWS_DEFAULT_PROFILE", "p1", 1);                 /* botocore reads it first */
    lw_endpoint_env_get(&env);
    CHECK_STR(lw_endpoint_profile(NULL, &env), "p1");
    struct lw_endpoint_env none = { 0 };
    CHECK_STR(lw_endpoint_profile("", &none), "default");

    char dir[] = "/tmp/lw_test_ep.XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/cfg", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("[profile p1]\nregion = sa-east-1\n", f);
        fclose(f);
    }
    env.aws_config_file = path;
    struct lw_ini *ini = NULL;
    CHECK_INT(lw_endpoint_load_config(&env, &ini, &err), 0);
    struct lw_region r;
    env.aws_region = NULL;
    CHECK_INT(lw_region_resolve(NULL, &env, ini, lw_endpoint_profile(NULL, &env), &r, &err), 0);
    CHECK_STR(r.name, "sa-east-1");
    lw_ini_free(ini);
    remove(path);
    remove(dir);
    struct lw_endpoint_env nohome = { 0 };
    CHECK_INT(lw_endpoint_load_config(&nohome, &ini, &err), 0);
    CHECK_INT(lw_ini_section_count(ini), 0);
    lw_ini_free(ini);
}

int main(void)
{
    test_default_endpoints_match_botocore_rule_sets();
    RUN(test_region_precedence);
    RUN(test_region_validation);
    RUN(test_endpoint_precedence);
    RUN(test_missing_services_section);
    RUN(test_ignore_configured_endpoint_urls);
    RUN(test_fips_dualstack_from_config_and_env);
    RUN(test_custom_endpoint_with_fips_or_dualstack_is_an_error);
    RUN(test_missing_region);
    RUN(test_custom_url_normalization);
    RUN(test_custom_url_rejections);
    RUN(test_env_helpers);
    return T_DONE();
}
