import { readFileSync } from 'node:fs'
import { App } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { WeirStack } from '../../deploy/aws/weir-stack.js'

describe('deploy/aws: the CDK app', () => {
  const app = new App()
  const stack = new WeirStack(app, 'Weir', {
    topics: ['x', 'weather'],
    image: 'registry.example/weir:1',
    env: { account: '123456789012', region: 'eu-west-1' },
  })
  const template = Template.fromStack(stack) // synthesised offline

  it('has the lake bucket, a Kinesis stream per topic, Glue databases, an Athena workgroup, PostgreSQL, SNS and the Weir service', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: Match.anyValue(),
    })
    template.resourceCountIs('AWS::Kinesis::Stream', 2)
    template.hasResourceProperties('AWS::Kinesis::Stream', { Name: 'weir_x' })
    template.resourceCountIs('AWS::Glue::Database', 2)
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'trusted' } })
    template.hasResourceProperties('AWS::Athena::WorkGroup', { Name: 'weir' })
    template.hasResourceProperties('AWS::RDS::DBInstance', { Engine: 'postgres', StorageEncrypted: true })
    template.resourceCountIs('AWS::SNS::Topic', 1)
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Image: 'registry.example/weir:1', Command: ['run'] })],
    })
    template.resourceCountIs('AWS::ECS::Service', 1)
  })

  it('grants least privilege: no statement allows * actions, and none a * action on * resources', () => {
    const policies = template.findResources('AWS::IAM::Policy')
    const statements = Object.values(policies).flatMap(
      (p) =>
        (
          p as {
            Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } }
          }
        ).Properties.PolicyDocument.Statement,
    )
    expect(statements.length).toBeGreaterThan(3)
    for (const s of statements) {
      const actions = Array.isArray(s.Action) ? s.Action : [s.Action]
      expect(actions).not.toContain('*')
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource]
      if (resources.includes('*')) {
        // Only the actions AWS defines on no resource (ECR's token, X-Ray, logs set by CDK) may say *.
        for (const a of actions)
          expect(a, JSON.stringify(s)).toMatch(/^(ecr:GetAuthorizationToken|logs:|xray:)/)
      }
    }
  })

  it("the Dockerfile builds with the project's own steps only (npm ci, npm run build)", () => {
    const runs = readFileSync('Dockerfile', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('RUN '))
      .map((l) => l.slice(4))
    expect(runs).toEqual(['npm ci', 'npm run build && npm prune --omit=dev'])
  })
})
