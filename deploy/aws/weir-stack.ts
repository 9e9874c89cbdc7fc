import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib'
import * as athena from 'aws-cdk-lib/aws-athena'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as glue from 'aws-cdk-lib/aws-glue'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as kinesis from 'aws-cdk-lib/aws-kinesis'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as rds from 'aws-cdk-lib/aws-rds'
import * as s3 from 'aws-cdk-lib/aws-s3'
import * as sns from 'aws-cdk-lib/aws-sns'
import type { Construct } from 'constructs'

const ZONES = ['trusted', 'refined'] as const

export interface WeirStackProps extends StackProps {
  /** The project's sources: one Kinesis stream each (Weir names them `<prefix>_<topic>`). */
  readonly topics: readonly string[]
  /** The image built from the repository's Dockerfile and pushed to a registry. */
  readonly image: string
  readonly streamPrefix?: string
}

/**
 * A Weir project on AWS: the lake in S3, the stream on Kinesis, the catalog synced to Glue and
 * queried by Athena, the refined tables loaded into RDS PostgreSQL, alerts through SNS, and Weir
 * itself as one Fargate service running `weir run`. Every grant is to these resources only.
 */
export class WeirStack extends Stack {
  constructor(scope: Construct, id: string, props: WeirStackProps) {
    super(scope, id, props)
    const prefix = props.streamPrefix ?? 'weir'

    const lake = new s3.Bucket(this, 'Lake', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    const streams = props.topics.map(
      (topic) =>
        new kinesis.Stream(this, `Stream-${topic}`, {
          streamName: `${prefix}_${topic}`,
          streamMode: kinesis.StreamMode.ON_DEMAND,
          encryption: kinesis.StreamEncryption.MANAGED,
        }),
    )
    for (const zone of ZONES) {
      new glue.CfnDatabase(this, `Glue-${zone}`, {
        catalogId: this.account,
        databaseInput: { name: zone, description: `Weir ${zone} zone` },
      })
    }
    const workgroup = new athena.CfnWorkGroup(this, 'Athena', {
      name: 'weir',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        resultConfiguration: { outputLocation: `s3://${lake.bucketName}/_athena/` },
      },
    })
    const alerts = new sns.Topic(this, 'Alerts', { displayName: 'Weir alerts' })

    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 })
    const db = new rds.DatabaseInstance(this, 'Warehouse', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      databaseName: 'weir',
      credentials: rds.Credentials.fromGeneratedSecret('weir'),
      storageEncrypted: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    })

    const cluster = new ecs.Cluster(this, 'Cluster', { vpc })
    const task = new ecs.FargateTaskDefinition(this, 'Task', { cpu: 1024, memoryLimitMiB: 4096 })
    task.addContainer('weir', {
      image: ecs.ContainerImage.fromRegistry(props.image),
      command: ['run'],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'weir', logRetention: logs.RetentionDays.ONE_MONTH }),
      environment: {
        WEIR_LAKE: `s3://${lake.bucketName}/lake`,
        WEIR_STREAM: 'kinesis',
        AWS_REGION: this.region,
        ALERTS_SNS_TOPIC: alerts.topicArn,
        PGHOST: db.dbInstanceEndpointAddress,
        PGDATABASE: 'weir',
      },
      secrets: {
        PGUSER: ecs.Secret.fromSecretsManager(db.secret!, 'username'),
        PGPASSWORD: ecs.Secret.fromSecretsManager(db.secret!, 'password'),
      },
      portMappings: [{ containerPort: 8080 }],
    })
    const service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition: task,
      desiredCount: 1,
    })
    db.connections.allowDefaultPortFrom(service)

    // Least privilege: named actions on these resources, never * on *.
    const role = task.taskRole
    lake.grantReadWrite(role)
    for (const s of streams) s.grantReadWrite(role)
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kinesis:DescribeStreamSummary', 'kinesis:ListShards', 'kinesis:CreateStream'],
        resources: [`arn:${this.partition}:kinesis:${this.region}:${this.account}:stream/${prefix}_*`],
      }),
    )
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'glue:GetDatabase',
          'glue:GetTable',
          'glue:CreateTable',
          'glue:UpdateTable',
          'glue:GetPartitions',
          'glue:BatchCreatePartition',
          'glue:BatchDeletePartition',
        ],
        resources: [
          `arn:${this.partition}:glue:${this.region}:${this.account}:catalog`,
          ...ZONES.flatMap((zone) => [
            `arn:${this.partition}:glue:${this.region}:${this.account}:database/${zone}`,
            `arn:${this.partition}:glue:${this.region}:${this.account}:table/${zone}/*`,
          ]),
        ],
      }),
    )
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'],
        resources: [
          `arn:${this.partition}:athena:${this.region}:${this.account}:workgroup/${workgroup.name}`,
        ],
      }),
    )
    alerts.grantPublish(role)
  }
}
