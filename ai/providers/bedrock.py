"""Amazon Bedrock's Converse API, signed with AWS Signature Version 4 (botocore's signer).

    POST {base}/model/{modelId}/converse  {"messages": [{"role", "content": [{"text"}]}], "system": [{"text"}],
                                           "inferenceConfig": {"maxTokens", "temperature", "topP"}}
    -> {"output": {"message": {"content": [{"text": "..."}]}}, "stopReason"}
"""

import json
import re
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ai import conf
from ai.providers.base import COMMON, AiError, Provider, param

__all__ = ["BedrockProvider"]

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


class BedrockProvider(Provider):
    kind, label = "AMAZON_BEDROCK", "Amazon Bedrock"
    fields = {"region": True, "accessKeyId": True, "secretAccessKey": True}
    secret_fields = ("providerConfig.secretAccessKey",)
    params = (param("temperature", float, low=0, high=1), param("topP", float, low=0, high=1),
              param("maxOutputTokens", int, low=1), *COMMON)
    json_mode = False

    @classmethod
    def check(cls, configuration) -> None:
        if not _REGION.fullmatch(configuration["providerConfig"]["region"]):
            raise ValueError("providerConfig.region must be an AWS region such as us-east-1")

    def chat(self, configuration, request, transport) -> str:
        provider = configuration["providerConfig"]
        body = {"messages": [{"role": role, "content": [{"text": text}]} for role, text in request.messages]}
        if request.system:
            body["system"] = [{"text": request.system}]
        inference = self.options(configuration, {"maxOutputTokens": "maxTokens", "temperature": "temperature",
                                                 "topP": "topP"})
        if inference:
            body["inferenceConfig"] = inference
        base = conf.api_url("BEDROCK").replace("{region}", provider["region"])
        url = f"{base}/model/{urllib.parse.quote(configuration['modelId'], safe='')}/converse"
        data = json.dumps(body).encode()
        signed = AWSRequest(method="POST", url=url, data=data, headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(provider["accessKeyId"], provider["secretAccessKey"]), "bedrock",
                  provider["region"]).add_auth(signed)
        answer = transport.post(url, dict(signed.headers.items()), data, guarded=False)
        output = answer.get("output")
        message = output.get("message") if isinstance(output, dict) else None
        if not isinstance(message, dict):
            raise AiError("Amazon Bedrock answered no output message", permanent=True)
        return self.texts(message.get("content"))
