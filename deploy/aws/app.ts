// `npx cdk synth` (or deploy) from deploy/aws: the Weir stack for the project's topics and image.
import { App } from 'aws-cdk-lib'
import { WeirStack } from './weir-stack.js'

const app = new App()
new WeirStack(app, 'Weir', {
  topics: (app.node.tryGetContext('topics') as string | undefined)?.split(',') ?? ['x', 'weather'],
  image: (app.node.tryGetContext('image') as string | undefined) ?? 'ghcr.io/your-org/weir:latest',
})
app.synth()
