'use strict';
// The repository's own osls plugin (serverless.yml `plugins`): template.yaml's CloudFormation
// `Rules` in the template osls deploys. osls' `resources` takes every other template section, but
// its schema refuses `Rules`; scripts/generate_serverless.py writes them under
// `custom.cloudFormationRules`, and this adds them once osls has merged `resources`, so that
// CloudFormation checks them before it creates a change set, as it does for SAM's template.
const RULES = 'cloudFormationRules';

class CloudFormationRules {
  constructor(serverless) {
    this.serverless = serverless;
    serverless.configSchemaHandler.defineCustomProperties({
      properties: { [RULES]: { type: 'object' } },
    });
    this.hooks = {
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.addRules(),
    };
  }

  addRules() {
    const rules = (this.serverless.service.custom || {})[RULES];
    if (!rules) return;
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const clashing = Object.keys(rules).filter((name) => template.Rules && name in template.Rules);
    if (clashing.length) {
      throw new this.serverless.classes.Error(`Rules defined twice: ${clashing.join(', ')}`);
    }
    template.Rules = { ...template.Rules, ...rules };
  }
}

module.exports = CloudFormationRules;
